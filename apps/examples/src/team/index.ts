import * as Intent from "@cordon/sdk/Intent"
import * as Team from "@cordon/sdk/Team"
import { admin, responder, summarizer, triage } from "./agents.js"
import { classifyMail, draftReply, readInbox, remember, searchCache, sendMail } from "./tools.js"

/** Processing incoming mail: classify, summarise into the session cache, draft a reply. Never send. */
export const processMail = Intent.make({
  name: "mail.process",
  description: "Triage incoming mail, summarise ham and draft replies",
  agents: ["triage", "summarizer", "responder"],
  tools: ["mail.classify", "inbox.read", "cache.remember", "cache.search", "outbox.draft"],
  scopes: ["cache:read", "cache:write", "inbox:read", "mail:read", "outbox:draft"]
})

export const administer = Intent.make({
  name: "ops.admin",
  description: "Tenant administration by an operator",
  agents: ["admin"],
  tools: ["outbox.send"],
  scopes: ["outbox:send"]
})

/** The demo's agent team. */
export const mailTeam = Team.make({
  name: "mail",
  agents: [triage, summarizer, responder, admin],
  tools: [classifyMail, readInbox, remember, searchCache, draftReply, sendMail],
  intents: [processMail, administer]
})
