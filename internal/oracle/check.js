#!/usr/bin/env node
// Independent parser oracles over the golden SQL corpus. Run through
// internal/oracle/run.sh, which checks that the tools are installed first.
//
//   node internal/oracle/check.js [-v] [--unused=fail|warn] [--allowlist FILE] [GOLDEN_ROOT]
//
// Every golden/<platform>/**/expected.sql (platform: snowflake, redshift,
// synapse) is split into statements, and every distinct statement is parsed
// on its own (reported positions are mapped back to the script) by sqlfluff
// (dialects snowflake, redshift, tsql) and, for synapse scripts, also by
// antlr4ts-sql (T-SQL grammar). Parsing statements one by one attributes each
// error to exactly one statement: an unparsable section cannot run on into
// the next statements and hide their errors, and an allow-list entry covers
// only the statement it matches. An error covered by internal/oracle/allowlist.txt is
// "allowed", any other is printed as
//   file:line:col: oracle: message
// Exit status: 0 nothing failed; 1 a statement failed or an allow-list entry
// matched nothing; 2 setup error (tool missing, bad allow-list, tool output
// that cannot be read).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ORACLE_DIR = __dirname;
const PLATFORMS = { snowflake: 'snowflake', redshift: 'redshift', synapse: 'tsql' };
const ORACLES = { sqlfluff: ['snowflake', 'redshift', 'tsql'], 'antlr4ts-sql': ['tsql'] };

class SetupError extends Error {}

function rel(p) {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function oneLine(s, max = 200) {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 3) + '...' : t;
}

// ---------------------------------------------------------------------------
// Statement splitting.
//
// A script is `--` comment lines, blank lines, statements ending in `;` and,
// for T-SQL, `GO` lines (which also end a statement). The scanner skips
// strings, quoted identifiers, comments and dollar-quoted bodies, so a `;`
// inside them does not end a statement.
// Returns [{start: {line, col}, end: {line, col}, text}] (1-based).
function splitStatements(src, dialect) {
  const stmts = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  let lineStart = 0; // offset of the current line's first character
  let atLineStart = true;
  let cur = null; // {start, startOff}
  let last = null; // position and offset just after the last statement character

  const pos = (off) => ({ line, col: off - lineStart + 1 });
  const finish = (endOff, endPos) => {
    stmts.push({ start: cur.start, end: endPos, text: src.slice(cur.startOff, endOff) });
    cur = null;
  };
  // Consumes src[i..j) that may contain newlines, keeping line accounting right.
  const advanceTo = (j) => {
    for (; i < j; i++) {
      if (src[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
  };
  const goLine = /[ \t]*GO(?:[ \t]+\d+)?[ \t]*(?:--[^\n]*)?(?:\r?\n|$)/iy;

  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
      atLineStart = true;
      continue;
    }
    if (atLineStart && dialect === 'tsql') {
      goLine.lastIndex = i;
      if (goLine.test(src)) {
        if (cur) finish(last.off, last.pos);
        atLineStart = false;
        // leave the newline to the main loop
        let j = goLine.lastIndex;
        if (src[j - 1] === '\n') j--;
        i = j;
        continue;
      }
    }
    atLineStart = false;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '-' && src[i + 1] === '-') {
      let j = src.indexOf('\n', i);
      if (j < 0) j = n;
      i = j;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      let depth = 0;
      let j = i;
      while (j < n) {
        if (src[j] === '/' && src[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (src[j] === '*' && src[j + 1] === '/') {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      advanceTo(j);
      continue;
    }
    if (!cur) cur = { start: pos(i), startOff: i };
    let j = i + 1;
    if (c === "'") {
      // Snowflake strings use backslash escapes as well as ''.
      while (j < n) {
        if (src[j] === '\\' && dialect === 'snowflake') j += 2;
        else if (src[j] === "'" && src[j + 1] === "'") j += 2;
        else if (src[j] === "'") {
          j++;
          break;
        } else j++;
      }
    } else if (c === '"' || (c === '[' && dialect === 'tsql')) {
      const close = c === '"' ? '"' : ']';
      while (j < n) {
        if (src[j] === close && src[j + 1] === close) j += 2;
        else if (src[j] === close) {
          j++;
          break;
        } else j++;
      }
    } else if (c === '$' && dialect !== 'tsql' && !/[A-Za-z0-9_$]/.test(src[i - 1] || '')) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(src.slice(i, i + 256));
      if (m) {
        const k = src.indexOf(m[0], i + m[0].length);
        j = k < 0 ? n : k + m[0].length;
      }
    }
    advanceTo(j);
    last = { off: i, pos: { line, col: i - lineStart } };
    if (c === ';') finish(i, { line, col: i - lineStart });
  }
  if (cur) finish(last.off, last.pos);
  return stmts;
}


// ---------------------------------------------------------------------------
// Allow-list.
//
//   <oracle> <dialect> <regex>  # <reason>
// oracle: sqlfluff | antlr4ts-sql; dialect: snowflake | redshift | tsql.
// The regex (JavaScript syntax, unanchored, a leading (?i) makes it
// case-insensitive) runs from the third field up to the first
// whitespace-#-whitespace; write [#] for a literal " # " inside it. The reason
// is required. Lines that are blank or start with # are comments.
function loadAllowlist(file) {
  const entries = [];
  const text = fs.readFileSync(file, 'utf8');
  text.split('\n').forEach((raw, idx) => {
    const lineNo = idx + 1;
    const lineText = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(lineText)) return;
    const where = `${rel(file)}:${lineNo}`;
    const m = /^\s*(\S+)\s+(\S+)\s+(.*?)\s+#\s+(.*\S)\s*$/.exec(lineText);
    if (!m) throw new SetupError(`${where}: want "<oracle> <dialect> <regex>  # <reason>": ${lineText}`);
    const [, oracle, dialect, source, reason] = m;
    if (!ORACLES[oracle]) {
      throw new SetupError(`${where}: unknown oracle "${oracle}" (want ${Object.keys(ORACLES).join(' or ')})`);
    }
    if (!ORACLES[oracle].includes(dialect)) {
      throw new SetupError(`${where}: oracle ${oracle} has no dialect "${dialect}" (want ${ORACLES[oracle].join(', ')})`);
    }
    let re;
    try {
      re = source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
    } catch (e) {
      throw new SetupError(`${where}: bad regex: ${e.message}`);
    }
    entries.push({ where, oracle, dialect, source, re, reason, used: 0 });
  });
  return entries;
}

// ---------------------------------------------------------------------------
// sqlfluff.
//
// `sqlfluff parse` takes one path and is slow to start, so the statements of
// one dialect are written to a temporary directory as 000001.sql,
// 000002.sql, ... and that directory is parsed in one run, with -vv so that
// it names each file as it starts parsing it ("== [path] PARSING"). Its
// output then has, for each file in name order, the parse tree (first line
// "[L:  1, P:  1]      |file:") or "...Failed to Parse...", then, if the file
// has violations, "==== parsing violations ====" and one
// "L:  n | P:  m | CODE | message" per violation (long messages continue on
// lines starting with spaces and "|"). Each unparsable section is one PRS
// violation; lexing errors are LXR. Exit status is 1 when there is any
// violation, 0 when none; both are cross-checked against the output.
//
// sqlfluff 1.4.5 also crashes on some input (tsql: GRANT VIEW DEFINITION TO
// ... raises "Grammar refers to 'ChangeKeywordSegment'"), with a Python
// traceback, exit status 1 and no results for any file of the run. The file
// named by the last "PARSING" line is then recorded as a CRASH failure and
// the run is repeated without it.
function sqlfluffOnce(dialect, texts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oracle-sqlfluff-${dialect}-`));
  try {
    const names = texts.map((t, k) => `${String(k + 1).padStart(6, '0')}.sql`);
    texts.forEach((t, k) => fs.writeFileSync(path.join(dir, names[k]), t));
    const outFile = path.join(dir, 'out.txt');
    const errFile = path.join(dir, 'err.txt');
    const out = fs.openSync(outFile, 'w');
    const err = fs.openSync(errFile, 'w');
    const args = [
      'parse', '--nocolor', '--code-only', '-vv', '--ignore-local-config',
      '--config', path.join(ORACLE_DIR, 'sqlfluff.cfg'),
      '--templater', 'raw', '--dialect', dialect, dir,
    ];
    const r = spawnSync('sqlfluff', args, { stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    const stdout = fs.readFileSync(outFile, 'utf8');
    const stderr = fs.readFileSync(errFile, 'utf8');
    const fail = (why) => {
      throw new SetupError(
        `sqlfluff --dialect ${dialect}: ${why}\n` +
          `  command: sqlfluff ${args.join(' ')} (exit ${r.status})\n  ` +
          oneLine(stderr.split('\n').slice(-10).join(' | '), 2000),
      );
    };
    if (r.error) fail(r.error.message);

    if (/^Traceback \(most recent call last\):/m.test(stderr)) {
      const started = [...stdout.matchAll(/^== \[(.*)\] PARSING$/gm)].map((m) => path.basename(m[1]));
      const k = started.length ? names.indexOf(started[started.length - 1]) : -1;
      if (k < 0) fail('crashed before parsing any file');
      const lastLine = stderr.trim().split('\n').pop();
      return { crashed: k, message: lastLine.replace(/\s+https?:\/\/\S+$/, '') };
    }
    if (r.status !== 0 && r.status !== 1) fail('unexpected exit status');

    const results = []; // per file: {violations: [{line, col, code, message}]}
    let curFile = null;
    let inViolations = false;
    let lastViolation = null;
    for (const lineText of stdout.split('\n')) {
      if (/^\[L:\s*1, P:\s*1\]\s*\|file:\s*$/.test(lineText) || lineText === '...Failed to Parse...') {
        curFile = { violations: [] };
        results.push(curFile);
        inViolations = false;
        lastViolation = null;
        continue;
      }
      if (lineText === '==== parsing violations ====') {
        if (!curFile) fail('violations before any file');
        inViolations = true;
        continue;
      }
      if (!inViolations) continue;
      let m;
      if ((m = /^L:\s*(\d+) \| P:\s*(\d+) \|\s*(\S+) \| (.*)$/.exec(lineText))) {
        lastViolation = {
          line: Number(m[1]),
          col: Number(m[2]),
          code: m[3],
          message: m[4].replace(/^Line \d+, Position \d+: /, ''),
        };
        curFile.violations.push(lastViolation);
      } else if (lastViolation && (m = /^\s+\| ?(.*)$/.exec(lineText))) {
        lastViolation.message += ' ' + m[1];
      } else {
        inViolations = false; // the "WARNING: Parsing errors found ..." line
        lastViolation = null;
      }
    }
    if (results.length !== texts.length) {
      fail(`read ${results.length} file results from its output, expected ${texts.length}`);
    }
    const count = results.reduce((a, f) => a + f.violations.length, 0);
    if ((count > 0) !== (r.status === 1)) {
      fail(`exit status ${r.status} disagrees with the ${count} violations read from its output`);
    }
    return { results };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// runSqlfluff parses each text as its own file; returns, per text,
// [{line, col, code, message}] (positions in that text).
function runSqlfluff(dialect, texts) {
  const results = new Array(texts.length);
  let pending = texts.map((t, k) => k);
  while (pending.length > 0) {
    const r = sqlfluffOnce(dialect, pending.map((k) => texts[k]));
    if (r.results) {
      r.results.forEach((res, j) => (results[pending[j]] = res.violations));
      break;
    }
    const k = pending[r.crashed];
    results[k] = [{ line: 1, col: 1, code: 'CRASH', message: `sqlfluff crashed: ${r.message}` }];
    pending = pending.filter((x) => x !== k);
  }
  return results;
}

// ---------------------------------------------------------------------------

function findScripts(root) {
  const byPlatform = {};
  for (const platform of Object.keys(PLATFORMS)) {
    const files = [];
    const walk = (dir) => {
      let ents;
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        if (e.code === 'ENOENT') return;
        throw e;
      }
      ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of ents) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === 'expected.sql') files.push(p);
      }
    };
    walk(path.join(root, platform));
    byPlatform[platform] = files;
  }
  return byPlatform;
}

function parseArgs(argv) {
  const opts = {
    verbose: false,
    unused: 'fail',
    allowlist: path.join(ORACLE_DIR, 'allowlist.txt'),
    root: path.join(ORACLE_DIR, '..', '..', 'golden'),
  };
  let positional = 0;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '-v' || a === '--verbose') opts.verbose = true;
    else if (a === '--unused=fail' || a === '--unused=warn') opts.unused = a.split('=')[1];
    else if (a === '--allowlist') opts.allowlist = argv[++k];
    else if (a.startsWith('--allowlist=')) opts.allowlist = a.slice('--allowlist='.length);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: bash internal/oracle/run.sh [-v] [--unused=fail|warn] [--allowlist FILE] [GOLDEN_ROOT]\n' +
          '  GOLDEN_ROOT defaults to the repository\'s golden/ directory.\n',
      );
      process.exit(0);
    } else if (a.startsWith('-') || positional++ > 0 || !a) throw new SetupError(`bad argument: ${a}`);
    else opts.root = a;
  }
  if (!opts.allowlist) throw new SetupError('--allowlist needs a file');
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.root) || !fs.statSync(opts.root).isDirectory()) {
    throw new SetupError(`golden root ${opts.root} is not a directory`);
  }
  const allow = loadAllowlist(opts.allowlist);
  const byPlatform = findScripts(opts.root);

  // Load and split every script.
  const scripts = [];
  for (const [platform, files] of Object.entries(byPlatform)) {
    for (const file of files) {
      const src = fs.readFileSync(file, 'utf8');
      const dialect = PLATFORMS[platform];
      scripts.push({ file, shown: rel(file), platform, dialect, src, lines: src.split('\n'), stmts: splitStatements(src, dialect), failures: [] });
    }
  }
  if (scripts.length === 0) {
    process.stdout.write(`oracle: no expected.sql under ${rel(opts.root)}/{${Object.keys(PLATFORMS).join(',')}}\n`);
    process.stdout.write('oracle: 0 files, 0 statements, 0 passed, 0 allowed, 1 failed\n');
    return 1;
  }

  // One unit per statement; failures: [{oracle, line, col, message}].
  const units = [];
  for (const s of scripts) for (const stmt of s.stmts) units.push({ script: s, stmt, failures: [] });

  // Each distinct statement text is parsed once, on its own; positions in it
  // are mapped back to every place it occurs.
  const toScript = (stmt, v) => ({
    line: v.line > 0 ? stmt.start.line + v.line - 1 : stmt.start.line,
    col: v.line > 1 ? v.col : stmt.start.col + Math.max(v.col, 1) - 1,
  });
  const distinct = (group) => {
    const byText = new Map();
    for (const u of group) {
      if (!byText.has(u.stmt.text)) byText.set(u.stmt.text, []);
      byText.get(u.stmt.text).push(u);
    }
    return byText;
  };

  // sqlfluff, one run per dialect.
  for (const dialect of ['snowflake', 'redshift', 'tsql']) {
    const group = units.filter((u) => u.script.dialect === dialect);
    if (group.length === 0) continue;
    const byText = distinct(group);
    const texts = [...byText.keys()];
    const t0 = Date.now();
    const results = runSqlfluff(dialect, texts.map((t) => t + '\n'));
    const secs = (Date.now() - t0) / 1000;
    texts.forEach((t, k) => {
      for (const u of byText.get(t)) {
        for (const v of results[k]) u.failures.push({ oracle: 'sqlfluff', ...toScript(u.stmt, v), message: `${v.code} ${v.message}` });
      }
    });
    const nFiles = new Set(group.map((u) => u.script)).size;
    process.stdout.write(
      `oracle: sqlfluff ${dialect}: ${nFiles} files, ${group.length} statements (${texts.length} distinct) in ${secs.toFixed(1)}s (${(secs / nFiles).toFixed(2)}s/file)\n`,
    );
  }

  // antlr4ts-sql for T-SQL, in-process.
  const tsql = units.filter((u) => u.script.dialect === 'tsql');
  if (tsql.length > 0) {
    const { parseTsql } = require('./tsql-parse.js');
    const byText = distinct(tsql);
    const t0 = Date.now();
    for (const [t, us] of byText) {
      const errs = parseTsql(t + '\n');
      for (const u of us) for (const e of errs) u.failures.push({ oracle: 'antlr4ts-sql', ...toScript(u.stmt, e), message: e.message });
    }
    const secs = (Date.now() - t0) / 1000;
    const nFiles = new Set(tsql.map((u) => u.script)).size;
    process.stdout.write(`oracle: antlr4ts-sql tsql: ${nFiles} files, ${tsql.length} statements (${byText.size} distinct) in ${secs.toFixed(1)}s\n`);
  }

  // Allow, report.
  let passed = 0;
  let allowed = 0;
  let failed = 0;
  const out = [];
  for (const u of units) {
    const s = u.script;
    const stmtText = oneLine(u.stmt.text, Infinity);
    let verdict = 'passed';
    for (const f of u.failures) {
      const lineText = (s.lines[f.line - 1] || '').replace(/\r$/, '');
      const entry = allow.find((e) => e.oracle === f.oracle && e.dialect === s.dialect && (e.re.test(stmtText) || e.re.test(lineText)));
      const loc = `${s.shown}:${f.line}:${f.col}: ${f.oracle}: `;
      if (entry) {
        entry.used++;
        if (verdict === 'passed') verdict = 'allowed';
        if (opts.verbose) out.push(`${loc}allowed by ${entry.where} (${entry.reason}): ${f.message}`);
      } else {
        verdict = 'failed';
        out.push(loc + f.message);
        out.push(`    statement: ${oneLine(u.stmt.text)}`);
      }
    }
    if (verdict === 'failed') failed++;
    else if (verdict === 'allowed') allowed++;
    else passed++;
  }

  let unused = 0;
  for (const e of allow) {
    if (e.used) continue;
    unused++;
    out.push(`${e.where}: ${opts.unused === 'fail' ? 'error' : 'warning'}: allow-list entry matched no failure; remove it: ${e.oracle} ${e.dialect} ${e.source}`);
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  process.stdout.write(`oracle: ${scripts.length} files, ${units.length} statements, ${passed} passed, ${allowed} allowed, ${failed} failed\n`);
  return failed > 0 || (unused > 0 && opts.unused === 'fail') ? 1 : 0;
}

module.exports = { splitStatements, loadAllowlist };

if (require.main === module) {
  let code;
  try {
    code = main();
  } catch (e) {
    if (!(e instanceof SetupError)) throw e;
    process.stderr.write(`oracle: ${e.message}\n`);
    code = 2;
  }
  process.exitCode = code;
}
