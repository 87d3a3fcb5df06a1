/** What standing the system up needs: topology, buckets, Firestore field policies, process settings. */
export { provisionTopology } from "./pubsub/provision.ts";
export {
  type CompositeIndex,
  compositeIndexes,
  type FieldPolicy,
  fieldPolicies,
} from "./registry/collections.ts";
export { serviceEnvironment, serviceNodeOptions } from "./registry/services.ts";
export {
  type BucketRole,
  type BucketSpec,
  bucketSpecs,
  provisionBuckets,
} from "./storage-topology.ts";
