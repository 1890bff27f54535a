/**
 * Email addresses as Bastion stores and compares them, and their confusable "skeleton".
 *
 * Normalised: trimmed, Unicode NFKC (fullwidth `ｊａｎｅ` and ligatures become their plain
 * letters), lower-cased (domains are case-insensitive; local parts are compared case-insensitively
 * here too). The skeleton goes further, after UTS #39 §4: characters that look alike map to one
 * prototype (Cyrillic `а` and Greek `α` to `a`, `0` to `o`, `1`/`I` to `l`, `rn` to `m`...), and
 * marks are dropped, so `jаne@example.com` with a Cyrillic `а` has the skeleton of `jane@…`.
 * The map is a deliberately small subset of Unicode's confusables.txt: the Latin look-alikes from
 * the Cyrillic, Greek, Armenian and Cherokee blocks, digits, and a few punctuation marks.
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  ԍ: 'g',
  ү: 'y',
  // Greek
  α: 'a',
  β: 'b',
  γ: 'y',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ϲ: 'c',
  ϳ: 'j',
  // Armenian, Cherokee and Latin extensions
  օ: 'o',
  ս: 'u',
  ց: 'g',
  հ: 'h',
  ո: 'n',
  ꭰ: 'd',
  ꮪ: 's',
  ı: 'i',
  ȷ: 'j',
  ɑ: 'a',
  ɡ: 'g',
  ɩ: 'i',
  ʀ: 'r',
  ᴅ: 'd',
  ʟ: 'l',
  ꜱ: 's',
  ᴠ: 'v',
  ᴡ: 'w',
  ᴢ: 'z',
  ſ: 'f',
  // Digits and punctuation
  '0': 'o',
  '1': 'l',
  '|': 'l',
  '5': 's',
  '‐': '-',
  '‑': '-',
  '‒': '-',
  '–': '-',
  '—': '-',
  '−': '-',
  '․': '.',
  '｡': '.',
  '＠': '@',
};

/** The UTS #39-style skeleton of a (normalised) email: equal skeletons look alike. */
export function emailSkeleton(email: string): string {
  const decomposed = normalizeEmail(email)
    .normalize('NFD')
    .replace(/\p{M}/gu, '') // accents and other marks: é → e
    .replace(/\p{Cf}/gu, ''); // invisible format characters (zero-width joiners, bidi controls)
  let out = '';
  for (const ch of decomposed) out += CONFUSABLES[ch] ?? ch;
  // Sequences that look like one letter, and letters that look like another, in their final form.
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/cl/g, 'd').replace(/i/g, 'l');
}
