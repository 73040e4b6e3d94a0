/**
 * Turns a raw corpus message into the few fields the example agents read, with mailparser's
 * MIME parser (`simpleParser`): decoded headers, transfer encodings, charsets and multipart
 * trees are all its work.
 *
 * @module
 */
import { Schema } from "effect"
import { type ParsedMail as MimeMail, type SimpleParserOptions, simpleParser } from "mailparser"
import { MailLabel, type RawMail } from "./Corpus.js"

/** Longest `text` kept, in UTF-16 code units. */
export const MAX_TEXT_CHARS = 4000

/**
 * A parsed message.
 *
 * - `from`: the `From` header as display text (`"Name" <addr>`), `""` when absent
 * - `subject`: the decoded `Subject`, `""` when absent
 * - `date`: the `Date` header as an ISO 8601 UTC string, `null` when absent or unparseable
 *   (a header without a zone, as some spam has, is read in the host's local time, as mailparser does)
 * - `text`: the plain-text body, trimmed, at most `MAX_TEXT_CHARS` characters
 */
export const ParsedMail = Schema.Struct({
  id: Schema.String,
  label: MailLabel,
  from: Schema.String,
  subject: Schema.String,
  date: Schema.NullOr(Schema.String),
  text: Schema.String.pipe(Schema.maxLength(MAX_TEXT_CHARS))
})
export type ParsedMail = typeof ParsedMail.Type

const PARSER_OPTIONS: SimpleParserOptions = {
  keepCidLinks: true,
  skipImageLinks: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  checksumAlgo: false,
  maxHtmlLengthToParse: 512 * 1024
}

/** Cuts `text` to `max` code units without leaving half a surrogate pair at the end. */
export const clipText = (text: string, max: number): string => {
  if (text.length <= max) return text
  const cut = text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

const normalise = (text: string): string => text.replace(/\r\n?/g, "\n").trim()

/**
 * mailparser converts HTML to text only for a top-level HTML part or one beside a text part; an
 * HTML-only multipart message keeps just `html`. Feeding that HTML back as a single-part
 * `text/html` message makes mailparser run its own converter (html-to-text) on it.
 */
const htmlToText = async (html: string): Promise<string> => {
  try {
    const wrapped = await simpleParser(
      `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}`,
      PARSER_OPTIONS
    )
    return wrapped.text ?? ""
  } catch {
    return ""
  }
}

const bodyOf = async (mail: MimeMail): Promise<string> => {
  const text = normalise(mail.text ?? "")
  if (text !== "" || typeof mail.html !== "string" || mail.html === "") return text
  return normalise(await htmlToText(mail.html))
}

/**
 * mailparser substitutes the current time for a `Date` header it cannot parse; that would make
 * the output depend on when it ran, so the header's own value is checked first.
 */
const dateOf = (mail: MimeMail): string | null => {
  const line = mail.headerLines.find((header) => header.key === "date")?.line
  if (line === undefined || !(mail.date instanceof Date)) return null
  const value = line
    .slice(line.indexOf(":") + 1)
    .replace(/\s+/g, " ")
    .trim()
  if (Number.isNaN(new Date(value).getTime()) || Number.isNaN(mail.date.getTime())) return null
  return mail.date.toISOString()
}

/**
 * Parses `raw.raw` with mailparser's `simpleParser` (RFC 5322 / MIME, RFC 2045–2047).
 *
 * `text` is the message's plain-text parts; when it has only HTML, that HTML converted to text
 * by mailparser's converter. Never rejects: a message the parser cannot read yields empty
 * `from`, `subject`, `text` and a `null` date. Attachments are ignored.
 */
export const parseMail = async (raw: RawMail): Promise<ParsedMail> => {
  const empty: ParsedMail = { id: raw.id, label: raw.label, from: "", subject: "", date: null, text: "" }
  try {
    const mail = await simpleParser(raw.raw, PARSER_OPTIONS)
    return {
      ...empty,
      from: mail.from?.text ?? "",
      subject: (mail.subject ?? "").trim(),
      date: dateOf(mail),
      text: clipText(await bodyOf(mail), MAX_TEXT_CHARS)
    }
  } catch {
    return empty
  }
}
