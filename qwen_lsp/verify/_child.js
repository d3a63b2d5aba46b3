// The child process of a JavaScript behaviour check (see javascript.py).
//
// Reads one JSON job on stdin; defines the original and the rewrite in two separate `vm`
// contexts that hold nothing but the language's own globals (no require, process, fetch,
// timers: the code cannot reach the outside world from there); runs both on the same
// inputs with a timeout per call; compares results (deep, floats with a tolerance),
// throw-vs-throw and what each did to its arguments. Writes one JSON object per line,
// in the same format as _child.py.
'use strict';

const vm = require('node:vm');

let JOB_FUNCTIONS = [];  // the sources of the function inputs ({$fn: i}), for messages
const REL_TOL = 1e-9;
const ABS_TOL = 1e-12;

function emit(fields) {
  process.stdout.write(JSON.stringify(fields) + '\n');
}

const CONSOLE = `
globalThis.console = (() => {
  const printed = [];
  const put = (...items) => { printed.push(items.map(String).join(' ')); };
  return {log: put, info: put, warn: put, error: put, debug: put, trace: put, dir: put,
          table: put, __printed: printed};
})();
`;

// Runs inside each context: revives the inputs, calls, and encodes the outcome as a
// JSON-safe tree (tags for undefined, NaN, infinities, functions, Maps, Sets, cycles).
const RUNTIME = `
(function () {
  const MAX_ITEMS = %MAX_ITEMS%;
  const FUNCTIONS = [%FUNCTIONS%];
  const CALLS = [];
  function revive(v) {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      if ('$float' in v) return Number(v.$float);
      if ('$undefined' in v) return undefined;
      if ('$fn' in v) {
        // a function input records its calls (as many arguments as it reads), which are
        // part of the behaviour: a callback's results are only seen there
        const f = FUNCTIONS[v.$fn];
        return function (...a) {
          if (CALLS.length < MAX_ITEMS) CALLS.push(a.slice(0, f.length));
          return f(...a);
        };
      }
      const o = {};
      for (const k of Object.keys(v)) o[k] = revive(v[k]);
      return o;
    }
    return v;
  }
  function encode(v, seen) {
    if (v === undefined) return {$: 'undefined'};
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return {$: 'NaN'};
      if (!Number.isFinite(v)) return {$: v > 0 ? 'Infinity' : '-Infinity'};
      return v;
    }
    if (typeof v === 'bigint') return {$: 'bigint', v: String(v)};
    if (typeof v === 'symbol') return {$: 'symbol', v: String(v)};
    if (typeof v === 'function') return {$: 'function'};
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return {$: 'cycle'};
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => encode(x, seen));
      if (v instanceof Map) return {$: 'Map', v: [...v].map((e) => encode(e, seen))};
      if (v instanceof Set) return {$: 'Set', v: [...v].map((x) => encode(x, seen))};
      if (v instanceof Date) return {$: 'Date', v: String(v.getTime())};
      if (v instanceof RegExp) return {$: 'RegExp', v: String(v)};
      if (v instanceof Error) return {$: 'Error', v: v.name + ': ' + v.message};
      const o = {};
      for (const k of Object.keys(v)) o[k] = encode(v[k], seen);
      return {$: 'object', v: o};
    } finally {
      seen.delete(v);
    }
  }
  // A TypeError that no \`throw\` of the checked code wrote: an input of a type the code
  // never meant to take, not a check it makes. (In this template, regex escapes are doubled.)
  function accidental(error) {
    if (!(error instanceof TypeError)) return false;
    const match = /function\\.js:(\\d+):(\\d+)/.exec(String(error.stack || ''));
    if (!match) return true;
    const line = globalThis.__sourceLines[Number(match[1]) - 1] || '';
    return !/\\bthrow\\s*$/.test(line.slice(0, Number(match[2]) - 1));  // throw new TypeError
  }
  function isIterator(v) {
    return v !== null && typeof v === 'object' && typeof v.next === 'function' &&
      typeof v[Symbol.iterator] === 'function' && !Array.isArray(v);
  }
  // Runs the inputs in order, recording each outcome as it goes (so that what was done
  // survives a timeout that ends the whole call) and when the current one started.
  function runAll(fn, texts, until, progress, clock) {
    for (const text of texts) {
      if (Date.now() > until) break;
      clock.start = Date.now();
      const outcome = JSON.parse(run(fn, text));
      outcome.ms = Date.now() - clock.start;
      progress.push(JSON.stringify(outcome));
    }
  }
  function printed() {
    const lines = console.__printed.splice(0);
    return lines.join('\\n').slice(0, 10000);
  }
  function run(fn, text) {
    CALLS.length = 0;
    const args = revive(JSON.parse(text));
    console.__printed.length = 0;
    let value;
    try {
      value = fn.apply(undefined, args);
      if (isIterator(value)) {
        const items = [];
        for (const item of value) {
          if (items.length >= MAX_ITEMS) break;
          items.push(item);
        }
        value = {$: 'iterator', v: encode(items, new Set())};
        return JSON.stringify({kind: 'ok', value, args: encode(args, new Set()),
                               printed: printed(), calls: encode(CALLS, new Set())});
      }
      if (value && typeof value.then === 'function') {
        return JSON.stringify({kind: 'async'});
      }
    } catch (error) {
      let text;
      try {
        text = (error && error.name ? error.name + ': ' + error.message : String(error));
      } catch (e) {
        text = 'an exception';
      }
      return JSON.stringify({kind: 'throw', error: text.split('\\n')[0].slice(0, 160),
                             accidental: accidental(error), printed: printed()});
    }
    return JSON.stringify({kind: 'ok', value: encode(value, new Set()),
                           args: encode(args, new Set()), printed: printed(),
                           calls: encode(CALLS, new Set())});
  }
  return {run, runAll};
})()
`;

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= Math.max(REL_TOL * Math.max(Math.abs(a), Math.abs(b)), ABS_TOL);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (a.$ === 'function' && b.$ === 'function') throw new Error('incomparable');
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return same(ka, kb) && ka.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

function isFunctionInput(v) {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v) && '$fn' in v;
}

// The arguments after a call, without those that were function inputs: a function we
// passed has nothing to compare.
function withoutFunctions(after, inputs) {
  return after.filter((_, k) => !isFunctionInput(inputs[k]));
}

function show(v, depth = 0) {
  if (depth > 3) return '…';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v);
  if (Array.isArray(v)) {
    const items = v.slice(0, 6).map((x) => show(x, depth + 1));
    if (v.length > 6) items.push('…');
    return '[' + items.join(', ') + ']';
  }
  if (v && typeof v === 'object') {
    switch (v.$) {
      case 'undefined': case 'NaN': case 'Infinity': case '-Infinity': return v.$;
      case 'function': return '[Function]';
      case 'source': return v.v;
      case 'cycle': return '[Circular]';
      case 'bigint': return v.v + 'n';
      case 'iterator': return 'an iterator yielding ' + show(v.v, depth);
      case 'Map': return 'Map(' + show(v.v, depth) + ')';
      case 'Set': return 'Set(' + show(v.v, depth) + ')';
      case 'object': {
        const keys = Object.keys(v.v);
        const parts = keys.slice(0, 4).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${show(v.v[k], depth + 1)}`);
        if (keys.length > 4) parts.push('…');
        return '{' + parts.join(', ') + '}';
      }
      default: return v.$ + (v.v !== undefined ? '(' + v.v + ')' : '');
    }
  }
  return String(v);
}

function describe(outcome, limit) {
  if (outcome.kind === 'ok') {
    return 'returns ' + show(outcome.value);
  }
  if (outcome.kind === 'throw') return 'throws ' + outcome.error;
  return `does not finish within ${(limit / 1000).toFixed(2)} s`;
}

function inputText(name, args) {
  return `${name}(${args.map((a) => show(encodeInput(a))).join(', ')})`;
}

function encodeInput(v) {
  if (Array.isArray(v)) return v.map(encodeInput);
  if (v && typeof v === 'object') {
    if ('$float' in v) return {$: v.$float};
    if ('$undefined' in v) return {$: 'undefined'};
    if ('$fn' in v) return {$: 'source', v: `(${JOB_FUNCTIONS[v.$fn]})`};
    const o = {};
    for (const k of Object.keys(v)) o[k] = encodeInput(v[k]);
    return {$: 'object', v: o};
  }
  return v;
}

function makeContext(job, code) {
  const context = vm.createContext({}, {
    codeGeneration: {strings: false, wasm: false},  // no eval / new Function inside
    microtaskMode: 'afterEvaluate',
  });
  // A console of the context's own (no function of this realm goes in): what is logged
  // is kept per call and compared, as printed output is part of what a function does.
  vm.runInContext(CONSOLE, context);
  const script = job.prelude + '\n' + code;
  context.__sourceLines = script.split('\n');
  vm.runInContext(script, context, {timeout: 1000, filename: 'function.js'});
  const fn = vm.runInContext(job.name, context, {timeout: 100});
  if (typeof fn !== 'function') throw new TypeError(`${job.name} is not a function`);
  const runtime = RUNTIME.replace('%MAX_ITEMS%', String(job.max_items))
    .replace('%FUNCTIONS%', (job.functions || []).join(', '));
  context.__runtime = vm.runInContext(runtime,
                                      context);
  context.__fn = fn;
  return {context};
}

// Runs one side on `texts` in as few calls into its context as possible: a timeout per
// call costs node a watchdog thread, which is most of the work for small functions. A call
// ends at the limit of the input it is on; an input that has used its whole limit is a
// timeout, otherwise the next call goes on from it. Stops early after `stopAfterTimeout`.
function runSide(side, texts, limitFor, until, stopAfterTimeout) {
  const out = [];
  while (out.length < texts.length && Date.now() <= until) {
    const from = out.length;
    const progress = vm.runInContext('[]', side.context);
    const clock = vm.runInContext('({start: Date.now()})', side.context);
    Object.assign(side.context, {__inputs: texts.slice(from), __until: until,
                                 __progress: progress, __clock: clock});
    let timedOut = false;
    try {
      vm.runInContext('__runtime.runAll(__fn, __inputs, __until, __progress, __clock)',
                      side.context, {timeout: Math.max(1, Math.round(limitFor(from)))});
    } catch (error) {
      if (!(error && error.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')) throw error;
      timedOut = true;
    }
    for (let i = 0; i < progress.length; i++) out.push(JSON.parse(progress[i]));
    if (!timedOut) break;  // all done, or the deadline came
    const current = out.length;
    const ran = Date.now() - clock.start;
    if (current < texts.length && ran >= limitFor(current)) {
      out.push({kind: 'timeout', ms: ran});
      if (stopAfterTimeout) break;
    }
  }
  return out;
}

function main(job) {
  JOB_FUNCTIONS = job.functions || [];
  let original;
  let rewrite;
  try {
    original = makeContext(job, job.original);
  } catch (error) {
    emit({error: `the original cannot be defined here: ${error}`});
    return;
  }
  try {
    rewrite = makeContext(job, job.rewritten);
  } catch (error) {
    emit({diff: `the rewrite fails as soon as it is defined: ${error}`});
    return;
  }
  const deadline = Date.now() + job.seconds * 1000;
  const texts = job.cases.map(([args]) => JSON.stringify(args));
  const counts = {cases: 0, raised: 0, generated: 0, generated_raised: 0, skipped: 0, slow: 0,
                  widened: 0};
  const state = {counts, firstError: null, widened: null};
  // If node itself dies (out of memory), the parent knows which side was running.
  emit({start: -1, phase: 'original', call: 'one of the inputs'});
  const before = runSide(original, texts, () => job.case_timeout * 1000,
                         Date.now() + job.seconds * 500, false);
  const kept = [];
  before.forEach((a, i) => (a.kind === 'timeout' ? counts.slow++ : kept.push(i)));
  const limitOf = (a) => Math.max(200, 20 * a.ms + 50);
  emit({start: -1, phase: 'rewrite', call: 'one of the inputs', original: 'returns'});
  const after = runSide(rewrite, kept.map((i) => texts[i]), (k) => limitOf(before[kept[k]]),
                        deadline + 2000, true);
  for (let k = 0; k < after.length; k++) {
    const i = kept[k];
    if (compare(job, i, before[i], after[k], limitOf(before[i]), state)) return;
  }
  emit({done: true, first_error: state.firstError, widened_example: state.widened, ...counts});
}

// Counts one input; emits the difference and returns true if there is one.
function compare(job, index, a, b, limit, state) {
  const [args, , source] = job.cases[index];
  const counts = state.counts;
  if (a.kind === 'async' || b.kind === 'async') {
    emit({error: 'it returns a promise (asynchronous code is not run here)'});
    return true;
  }
  let verdict = null;
  try {
    const bothThrow = a.kind === 'throw' && b.kind === 'throw';
    const both = bothThrow ? 'throw' : describe(a, limit).replace(/^returns /, 'return ');
    if (!bothThrow && !(a.kind === 'ok' && b.kind === 'ok' && same(a.value, b.value))) {
      verdict = `the original ${describe(a, limit)}; the rewrite ${describe(b, limit)}`;
    } else if ((a.printed || '') !== (b.printed || '')) {
      verdict = `both ${both}, but the original prints ${show(a.printed || '')} and the ` +
        `rewrite prints ${show(b.printed || '')}`;
    } else if (bothThrow) {
      verdict = null;
    } else if (!same(a.calls || [], b.calls || [])) {
      verdict = `both ${both}, but the original calls its function argument with ` +
        `${show(a.calls || [])} and the rewrite with ${show(b.calls || [])}`;
    } else if (!same(withoutFunctions(a.args, args), withoutFunctions(b.args, args))) {
      const i = a.args.findIndex((x, k) => !isFunctionInput(args[k]) && !same(x, b.args[k]));
      const param = job.params[i] || `#${i + 1}`;
      const initial = encodeInput(args[i]);
      let change;
      if (same(a.args[i], initial)) {
        change = `the rewrite changes its argument \`${param}\` to ${show(b.args[i])} ` +
          '(the original leaves it as it was)';
      } else if (same(b.args[i], initial)) {
        change = `the original changes its argument \`${param}\` to ` +
          `${show(a.args[i])}; the rewrite leaves it as it was`;
      } else {
        change = `the original changes its argument \`${param}\` to ${show(a.args[i])}; ` +
          `the rewrite changes it to ${show(b.args[i])}`;
      }
      verdict = `both ${both}, but ${change}`;
    }
  } catch (error) {
    counts.skipped++;
    return false;
  }
  counts.cases++;
  if (source === 'generated') counts.generated++;
  if (a.kind === 'throw') {
    counts.raised++;
    state.firstError = state.firstError || a.error;
    if (source === 'generated') counts.generated_raised++;
  }
  if (verdict !== null && source === 'generated' && a.kind === 'throw' && a.accidental &&
      b.kind === 'ok') {
    // the rewrite works where the original fails by accident of type: noted, not a difference
    counts.widened++;
    state.widened = state.widened || `for ${inputText(job.name, args)} ${verdict}`;
    verdict = null;
  }
  if (verdict !== null) {
    emit({diff: `for ${inputText(job.name, args)} ${verdict}`, widened_example: state.widened,
          ...counts});
    return true;
  }
  return false;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  try {
    main(JSON.parse(input));
  } catch (error) {
    emit({error: `the check itself failed: ${error}`});
  }
});
