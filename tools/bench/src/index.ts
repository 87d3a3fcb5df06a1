export { percentile } from "./measure.ts";
