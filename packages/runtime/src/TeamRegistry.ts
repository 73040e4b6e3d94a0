import type { Team } from "@cordon/sdk/Team"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/** The team the broker serves (the same definition its tenant workers run). */
export class TeamRegistry extends Context.Tag("@cordon/runtime/TeamRegistry")<TeamRegistry, Team>() {}

export const layer = (team: Team): Layer.Layer<TeamRegistry> => Layer.succeed(TeamRegistry, team)
