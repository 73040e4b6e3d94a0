export * from "./CordonApi.js"
export * from "./Errors.js"
export * from "./Model.js"
export * from "./Client.js"
