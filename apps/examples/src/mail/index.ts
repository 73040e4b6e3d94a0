/**
 * Real mail data for the Cordon examples: the SpamAssassin corpus, MIME parsing, per-tenant
 * inboxes with canaries and planted prompt injections, and a naive Bayes spam classifier.
 *
 * @module
 */
export { CANARY_PATTERN, makeCanary, plantCanary } from "./Canary.js"
export {
  type Classifiable,
  type Classification,
  classify,
  MAX_VOCABULARY,
  SpamModel,
  tokenize,
  trainClassifier
} from "./Classifier.js"
export {
  type CorpusEntry,
  CorpusError,
  listCorpus,
  loadCorpus,
  MailLabel,
  RawMail,
  readCorpus
} from "./Corpus.js"
export { buildInboxes, InboxError, InboxMessage, type InboxOptions, type Inboxes } from "./Inboxes.js"
export { ATTACKER_ADDRESS, injectionActions, plantedInjections } from "./Injections.js"
export { clipText, MAX_TEXT_CHARS, ParsedMail, parseMail } from "./ParseMail.js"
