#!/usr/bin/env node
// T-SQL oracle: parse SQL with the antlr4ts-sql T-SQL grammar and report every
// lexer/parser syntax error.
//
//   node internal/oracle/tsql-parse.js FILE...
//
// prints one `file:line:col: message` per syntax error (line and col 1-based)
// and exits 1 if there was any, 2 on a usage or read error, 0 otherwise.
// internal/oracle/check.js uses parseTsql() in-process.
'use strict';

const fs = require('fs');

let parserLib;
function lib() {
  if (!parserLib) {
    // Resolved from internal/oracle/node_modules (see internal/oracle/install.sh).
    const { antlr4tsSQL } = require('antlr4ts-sql/dist/src/antlr4tsSQL');
    const { SQLDialect } = require('antlr4ts-sql/dist/src/models/SQLDialect');
    parserLib = new antlr4tsSQL(SQLDialect.TSQL);
  }
  return parserLib;
}

// ANTLR lists every viable token after "expecting"; for T-SQL that is hundreds
// of keywords. Keep messages one readable line.
function shorten(msg) {
  let m = String(msg).replace(/\s+/g, ' ');
  m = m.replace(/expecting \{([^}]*)\}/, (all, set) => {
    const n = set.split(', ').length;
    return n > 6 ? `expecting one of ${n} tokens` : all;
  });
  return m.length > 300 ? m.slice(0, 297) + '...' : m;
}

// parseTsql returns [{line, col, message}] (1-based line and column).
function parseTsql(src) {
  const errors = [];
  const listener = {
    syntaxError(recognizer, offendingSymbol, line, charPositionInLine, msg) {
      // Through the case-changing stream, tokens have no text and ANTLR shows
      // them as '<type>'; put the source text back.
      let m = String(msg);
      if (offendingSymbol && offendingSymbol.startIndex >= 0 && offendingSymbol.stopIndex >= offendingSymbol.startIndex) {
        const text = src.slice(offendingSymbol.startIndex, offendingSymbol.stopIndex + 1);
        m = m.replace(/'<\d+>'/, () => `'${text}'`);
      }
      errors.push({ line, col: charPositionInLine + 1, message: shorten(m) });
    },
  };
  const p = lib();
  const parser = p.getParser(p.getTokens(src, [listener]), [listener]);
  p.getParseTree(parser);
  return errors;
}

module.exports = { parseTsql };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node internal/oracle/tsql-parse.js FILE...\n');
    process.exit(2);
  }
  let failed = false;
  for (const f of files) {
    let src;
    try {
      src = fs.readFileSync(f, 'utf8');
    } catch (e) {
      process.stderr.write(`${f}: ${e.message}\n`);
      process.exit(2);
    }
    for (const e of parseTsql(src)) {
      failed = true;
      process.stdout.write(`${f}:${e.line}:${e.col}: ${e.message}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}
