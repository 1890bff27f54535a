import { Worker } from 'node:worker_threads';

/**
 * Renders a custom EJS template in a worker thread, inside a fresh `vm` context that holds only
 * the report data (no `process`, no `require`, no `include`), under a time limit (vm timeout and a
 * wall-clock watchdog that terminates the worker) and a memory limit (`resourceLimits`). A
 * template that throws, loops or allocates without end fails its own run and nothing else.
 */
export interface SandboxLimits {
  timeoutMs: number;
  memoryMb: number;
}

export class TemplateRenderError extends Error {}

// Plain JavaScript run by the worker (eval: true). Kept free of backticks and `${`.
const WORKER = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const ejs = require(workerData.ejsPath);
function escapeFn(s) {
  if (s === undefined || s === null) return '';
  return String(s).replace(/[&<>'"]/g, function (c) {
    if (c === '&') return '&amp;';
    if (c === '<') return '&lt;';
    if (c === '>') return '&gt;';
    if (c === "'") return '&#39;';
    return '&#34;';
  });
}
function include() { throw new Error('include is not available in report templates'); }
try {
  const t = new ejs.Template(workerData.body, { localsName: 'data', compileDebug: false });
  t.generateSource();
  const body = 'var __output = "";\nfunction __append(s) { if (s !== undefined && s !== null) __output += s }\n' +
    'with (data) {\n' + t.source + '\n}\nreturn __output;';
  const code = escapeFn.toString() + '\n' + include.toString() + '\n(function (data) {\n' + body + '\n})(data)';
  const context = vm.createContext({ data: JSON.parse(workerData.json) }, { codeGeneration: { strings: false, wasm: false } });
  const html = vm.runInContext(code, context, { timeout: workerData.timeoutMs });
  parentPort.postMessage({ ok: true, html: typeof html === 'string' ? html : String(html) });
} catch (e) {
  parentPort.postMessage({ ok: false, error: String((e && e.message) || e) });
}
`;

export function renderInSandbox(body: string, data: unknown, limits: SandboxLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { body, json: JSON.stringify(data), ejsPath: require.resolve('ejs'), timeoutMs: limits.timeoutMs },
      resourceLimits: {
        maxOldGenerationSizeMb: limits.memoryMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.floor(limits.memoryMb / 4)),
        codeRangeSizeMb: 16,
        stackSizeMb: 4,
      },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (err: Error | null, html?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      void worker.terminate();
      if (err) reject(err);
      else resolve(html!);
    };
    // The vm timeout stops synchronous loops; the watchdog also covers start-up and anything else.
    const watchdog = setTimeout(
      () => finish(new TemplateRenderError(`The template did not finish within ${limits.timeoutMs} ms.`)),
      limits.timeoutMs + 2000,
    );
    worker.on('message', (m: { ok: boolean; html?: string; error?: string }) => {
      if (m.ok) finish(null, m.html);
      else
        finish(
          new TemplateRenderError(
            /timed out/i.test(m.error ?? '')
              ? `The template did not finish within ${limits.timeoutMs} ms.`
              : `The template failed: ${m.error}`,
          ),
        );
    });
    worker.on('error', (e: Error & { code?: string }) =>
      finish(
        new TemplateRenderError(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `The template exceeded its memory limit of ${limits.memoryMb} MB.`
            : `The template failed: ${e.message}`,
        ),
      ),
    );
    worker.on('exit', (code) => finish(new TemplateRenderError(`The template renderer stopped (exit code ${code}).`)));
  });
}

/** Compiles (never runs) a template: a syntax error is a validation error at save time. */
export function checkTemplateSyntax(body: string, compile: (body: string) => unknown): string | null {
  try {
    compile(body);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}
