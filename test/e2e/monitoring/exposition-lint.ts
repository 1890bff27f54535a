/**
 * A lint of the Prometheus text format for the mistakes `promtool check metrics` reports and a
 * few more: names, HELP and TYPE for every family, `_total` on counters (and only there), base
 * units (seconds, bytes, ratio: not ms, kb, percent), histogram buckets ascending with +Inf and
 * cumulative counts, `_sum`/`_count`, duplicate series, label names and escaping.
 */
export function lintExposition(text: string): string[] {
  const problems: string[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const buckets = new Map<string, { le: number; v: number }[]>();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const BAD_UNITS =
    /_(ms|milliseconds|microseconds|us|ns|kb|mb|gb|kilobytes|megabytes|percent|pct|minutes|hours|days)(_total|_bucket|_sum|_count)?$/;

  const family = (sample: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
      if (sample.endsWith(suffix) && types.has(sample.slice(0, -suffix.length))) return sample.slice(0, -suffix.length);
    }
    return sample;
  };

  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!NAME.test(name)) problems.push(`${name}: invalid metric name`);
      if (kind === 'HELP') {
        if (rest.trim() === '') problems.push(`${name}: empty HELP`);
        help.add(name);
      } else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          problems.push(`${name}: bad TYPE ${rest}`);
        if (types.has(name)) problems.push(`${name}: TYPE given twice`);
        types.set(name, rest);
        if (!help.has(name)) problems.push(`${name}: no HELP before TYPE`);
        if (rest === 'counter' && !name.endsWith('_total')) problems.push(`${name}: counter names end in _total`);
        if (rest !== 'counter' && name.endsWith('_total')) problems.push(`${name}: only counters end in _total`);
        if (BAD_UNITS.test(name)) problems.push(`${name}: use base units (seconds, bytes, ratio)`);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!m) {
      problems.push(`unparsable line: ${line}`);
      continue;
    }
    const [, name, , labelText = '', value] = m;
    const fam = family(name);
    if (!types.has(fam)) problems.push(`${name}: sample without TYPE`);
    if (!help.has(fam) && !problems.includes(`${fam}: no HELP before TYPE`)) problems.push(`${fam}: no HELP`);
    if (Number.isNaN(Number(value)) && !['NaN', '+Inf', '-Inf'].includes(value))
      problems.push(`${name}: bad value ${value}`);
    const labels: Record<string, string> = {};
    const rest = labelText.replace(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)",?/g,
      (_w, k: string, v: string) => {
        if (!LABEL.test(k) || k.startsWith('__')) problems.push(`${name}: bad label name ${k}`);
        if (k in labels) problems.push(`${name}: label ${k} twice`);
        labels[k] = v;
        return '';
      },
    );
    if (rest.trim() !== '') problems.push(`${name}: malformed labels {${labelText}}`);
    const key = `${name}{${Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',')}}`;
    if (seen.has(key)) problems.push(`${key}: duplicate series`);
    seen.add(key);
    if (types.get(fam) === 'histogram' && name === `${fam}_bucket`) {
      const { le, ...others } = labels;
      if (le === undefined) problems.push(`${name}: bucket without le`);
      const id = `${fam}{${JSON.stringify(others)}}`;
      const list = buckets.get(id) ?? [];
      list.push({ le: le === '+Inf' ? Infinity : Number(le), v: Number(value) });
      buckets.set(id, list);
    }
  }
  for (const [id, list] of buckets) {
    if (list[list.length - 1]?.le !== Infinity) problems.push(`${id}: histogram without a +Inf bucket`);
    for (let i = 1; i < list.length; i++) {
      if (!(list[i].le > list[i - 1].le)) problems.push(`${id}: buckets not in ascending le order`);
      if (list[i].v < list[i - 1].v) problems.push(`${id}: bucket counts not cumulative`);
    }
  }
  for (const [name, type] of types) {
    if (type === 'histogram' && (!text.includes(`\n${name}_sum`) || !text.includes(`\n${name}_count`))) {
      problems.push(`${name}: histogram without _sum or _count`);
    }
  }
  return problems;
}
