export * from "./Drive.js"
export * from "./Prepare.js"
export * from "./Report.js"
