export { startTopicScheduler } from "./topic-scheduler.ts";
