// Entry of the root `pnpm bench` script: registers tsx (resolved from the @cordon/test package, so the
// root needs no tsx of its own) and runs the TypeScript runner. Arguments pass through to run.ts.
import { register } from "tsx/esm/api"

register()
await import("./run.ts")
