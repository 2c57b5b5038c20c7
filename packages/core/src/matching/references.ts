// Reference numbers (PRJ-1042, WO 7731, q2291) found by the host's patterns in subjects and
// attachment names.
//
// Normalisation, and why it is pattern-driven: people type the same reference many ways
// ("PRJ 1042", "prj-1042", "PRJ–1042" with an en dash from Outlook's AutoCorrect, "PRJ_1042.pdf").
// Each pattern is run over the text as written and over lenient variants (underscores read as
// spaces, upper case, the separator between the letter prefix and the number read as "-" or as
// nothing). A token found is then rewritten to the first of these canonical forms that the SAME
// pattern accepts as a whole match:
//   1. upper case, parts joined by "-"   (PRJ-1042, WO-2024-0042)
//   2. upper case, parts joined directly (PRJ1042)
//   3. upper case as found
//   4. exactly as found
// So /\b(?:PRJ|WO|Q)-?\d{3,}\b/ turns "prj 1042", "PRJ1042" and "PRJ–1042" into "PRJ-1042", while a
// host pattern without a hyphen (/\bPRJ\d{4}\b/) gets "PRJ1042". Tokens are compared by `referenceKey`
// (upper-case letters and digits only), so the CRM's own spelling of a reference still matches.
import { ThreadlinkError } from '../errors.js';

/** Stored on MessageMeta.referenceTokens (schema: max 128 chars each). */
const MAX_TOKEN_LENGTH = 128;

// Separator runs people put between the letter prefix and the number: space, NBSP, hyphen,
// underscore, the Unicode dashes (U+2010–U+2015) and the minus sign (U+2212).
const PREFIX_SEPARATOR = /(?<=[A-Za-z])[\s\u00A0_\-\u2010-\u2015\u2212]{1,3}(?=\d)/g;
const PART_SPLIT = /[^\p{L}\p{N}]+/u;
const LETTERS_THEN_DIGITS = /^(\p{L}+)(\p{N}+)$/u;

/** The comparison key of a reference: upper-case letters and digits only ("prj–1042" → "PRJ1042"). */
export function referenceKey(token: string): string {
  return token.toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

interface CompiledPattern {
  global: RegExp;
  whole: RegExp;
}

function compile(pattern: RegExp, optionName: string): CompiledPattern {
  if (!(pattern instanceof RegExp)) {
    throw new ThreadlinkError('CONFIG_INVALID', `matching.${optionName} must be RegExp objects`);
  }
  const flags = pattern.flags.replace(/[gy]/g, '');
  return { global: new RegExp(pattern.source, `${flags}g`), whole: new RegExp(`^(?:${pattern.source})$`, flags) };
}

function canonicalForms(token: string): string[] {
  const parts: string[] = [];
  for (const part of token.split(PART_SPLIT)) {
    if (!part) continue;
    const split = LETTERS_THEN_DIGITS.exec(part);
    if (split) parts.push(split[1]!, split[2]!);
    else parts.push(part);
  }
  const upper = parts.map((part) => part.toUpperCase());
  return [upper.join('-'), upper.join(''), token.toUpperCase(), token];
}

function canonicalFor(token: string, pattern: CompiledPattern): string {
  for (const form of canonicalForms(token)) if (pattern.whole.test(form)) return form;
  return token;
}

function textVariants(text: string): string[] {
  const spaced = text.includes('_') ? text.replace(/_/g, ' ') : text;
  const upper = spaced.toUpperCase();
  const variants = new Set([text, spaced, upper.replace(PREFIX_SEPARATOR, '-'), upper.replace(PREFIX_SEPARATOR, '')]);
  return [...variants];
}

export interface ReferenceExtractor {
  /** Canonical tokens found in one text, deduplicated by `referenceKey`, in reading order. */
  extract(text: string): string[];
  /** The canonical form of a reference the CRM holds, or null when no pattern recognises it. */
  canonical(reference: string): string | null;
  readonly enabled: boolean;
}

export function createReferenceExtractor(patterns: readonly RegExp[], optionName: string): ReferenceExtractor {
  const compiled = patterns.map((pattern) => compile(pattern, optionName));
  return {
    enabled: compiled.length > 0,
    extract(text) {
      if (compiled.length === 0 || !text) return [];
      const found = new Map<string, string>();
      for (const variant of textVariants(text)) {
        for (const pattern of compiled) {
          for (const match of variant.matchAll(pattern.global)) {
            const token = match[0].trim();
            if (!token || token.length > MAX_TOKEN_LENGTH) continue;
            const canonical = canonicalFor(token, pattern);
            const key = referenceKey(canonical);
            if (key && !found.has(key)) found.set(key, canonical);
          }
        }
      }
      if (found.size < 2) return [...found.values()];
      // Variants differ in length, so order by where each key first occurs in the text with all
      // punctuation removed: the order a reader sees them in.
      const compact = referenceKey(text);
      const position = (key: string): number => {
        const index = compact.indexOf(key);
        return index < 0 ? Number.MAX_SAFE_INTEGER : index;
      };
      return [...found.entries()].sort(([left], [right]) => position(left) - position(right)).map(([, token]) => token);
    },
    canonical(reference) {
      const trimmed = reference.trim();
      for (const pattern of compiled) {
        for (const form of canonicalForms(trimmed)) if (pattern.whole.test(form)) return canonicalFor(trimmed, pattern);
      }
      return null;
    },
  };
}
