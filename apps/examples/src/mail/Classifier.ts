/**
 * A multinomial naive Bayes spam classifier (Manning, Raghavan, Schütze, "Introduction to
 * Information Retrieval", §13.2), small enough to ship to a worker as JSON.
 *
 * @module
 */
import { Schema } from "effect"
import type { MailLabel } from "./Corpus.js"

/** Most tokens kept in a model's vocabulary. */
export const MAX_VOCABULARY = 4000

const PerLabel = <S extends Schema.Schema.Any>(value: S) => Schema.Struct({ spam: value, ham: value })
const Finite = Schema.Number.pipe(Schema.finite())

/**
 * A trained model, JSON-serialisable (decode a stored one with `Schema.decodeUnknown(SpamModel)`).
 *
 * - `vocabulary`: at most `MAX_VOCABULARY` tokens, most frequent first
 * - `logPrior`: natural-log class priors, add-one smoothed so neither is `-Infinity`
 * - `logLikelihood.spam[i]` / `.ham[i]`: natural-log P(`vocabulary[i]` | class), Laplace smoothed
 */
export const SpamModel = Schema.Struct({
  version: Schema.Literal(1),
  vocabulary: Schema.Array(Schema.String),
  logPrior: PerLabel(Finite),
  logLikelihood: PerLabel(Schema.Array(Finite))
}).pipe(
  Schema.filter(
    (model) =>
      (model.logLikelihood.spam.length === model.vocabulary.length &&
        model.logLikelihood.ham.length === model.vocabulary.length) ||
      "every likelihood array must be as long as the vocabulary"
  )
)
export type SpamModel = typeof SpamModel.Type

/** The fields of a message the classifier reads. */
export interface Classifiable {
  readonly subject: string
  readonly text: string
}

/** A classification: `score` is P(spam | message) in `[0, 1]`; `label` is spam when `score > 0.5`. */
export interface Classification {
  readonly label: MailLabel
  readonly score: number
}

const WORD = /[\p{L}\p{N}]+/gu

/** Lower-cased runs of letters and digits, 2 to 24 characters long, from `subject` then `text`. */
export const tokenize = (mail: Classifiable): Array<string> => {
  const words = `${mail.subject}\n${mail.text}`.toLowerCase().match(WORD) ?? []
  return words.filter((word) => word.length >= 2 && word.length <= 24)
}

/**
 * Trains a model on labelled messages: the vocabulary is the `MAX_VOCABULARY` tokens with the
 * most occurrences over all of `training` (ties broken by code-unit order, so the result is
 * deterministic); out-of-vocabulary tokens are ignored. Likelihoods use Laplace (add-one)
 * smoothing: P(w | c) = (count(w, c) + 1) / (tokens(c) + |V|).
 */
export const trainClassifier = (
  training: ReadonlyArray<Classifiable & { readonly label: MailLabel }>
): SpamModel => {
  const documents = training.map((mail) => ({ label: mail.label, tokens: tokenize(mail) }))
  const frequency = new Map<string, number>()
  for (const { tokens } of documents) {
    for (const token of tokens) frequency.set(token, (frequency.get(token) ?? 0) + 1)
  }
  const vocabulary = [...frequency.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_VOCABULARY)
    .map(([token]) => token)
  const index = new Map(vocabulary.map((token, i) => [token, i] as const))

  const counts = {
    spam: new Array<number>(vocabulary.length).fill(0),
    ham: new Array<number>(vocabulary.length).fill(0)
  }
  const totals = { spam: 0, ham: 0 }
  const docs = { spam: 0, ham: 0 }
  for (const { label, tokens } of documents) {
    docs[label]++
    for (const token of tokens) {
      const i = index.get(token)
      if (i === undefined) continue
      counts[label][i] = (counts[label][i] ?? 0) + 1
      totals[label]++
    }
  }
  const logLikelihood = (label: MailLabel) =>
    counts[label].map((count) => Math.log((count + 1) / (totals[label] + vocabulary.length)))
  const logPrior = (label: MailLabel) => Math.log((docs[label] + 1) / (documents.length + 2))
  return {
    version: 1,
    vocabulary,
    logPrior: { spam: logPrior("spam"), ham: logPrior("ham") },
    logLikelihood: { spam: logLikelihood("spam"), ham: logLikelihood("ham") }
  }
}

const indexes = new WeakMap<SpamModel, ReadonlyMap<string, number>>()

const indexOf = (model: SpamModel): ReadonlyMap<string, number> => {
  const cached = indexes.get(model)
  if (cached !== undefined) return cached
  const index = new Map(model.vocabulary.map((token, i) => [token, i] as const))
  indexes.set(model, index)
  return index
}

/**
 * Classifies one message: sums log prior and per-token log likelihoods for each class and
 * returns the posterior P(spam) (a logistic of the log-odds, so it never overflows).
 */
export const classify = (model: SpamModel, mail: Classifiable): Classification => {
  const index = indexOf(model)
  let spam = model.logPrior.spam
  let ham = model.logPrior.ham
  for (const token of tokenize(mail)) {
    const i = index.get(token)
    if (i === undefined) continue
    spam += model.logLikelihood.spam[i] ?? 0
    ham += model.logLikelihood.ham[i] ?? 0
  }
  const score = 1 / (1 + Math.exp(ham - spam))
  return { label: score > 0.5 ? "spam" : "ham", score }
}
