// The region-node service: HTTP GET/PUT /v1/:class/:key of one region, /healthz, /metrics.
// The implementation lives in @meridian/meridian so the cluster launcher can run it in-process.
export { type RegionNodeHandle, type RegionNodeServiceOptions, startRegionNode } from "@meridian/meridian";
