export * from "./mail/index.js"
export * from "./team/index.js"
export * from "./demo/index.js"
export * from "./chaos/team.js"
