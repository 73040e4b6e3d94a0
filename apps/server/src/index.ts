export * from "./Broker.js"
export * from "./Demo.js"
export * from "./Http.js"
export * from "./TraceTree.js"
