/*
 * Copyright (C) ngx_faas authors
 *
 * The worker's own log lines.  faasd prefixes each line with the
 * function, slot and pid, so a line here only names what happened.
 * Writes to pipes are synchronous on Linux: nothing is lost on exit.
 */

'use strict';

const util = require('node:util');

let prefix = 'faas-worker: ';


function setName(name) {
  prefix = name === '' ? '' : name + ': ';
}


function info(...args) {
  process.stdout.write(prefix + util.format(...args) + '\n');
}


function error(...args) {
  process.stderr.write(prefix + util.format(...args) + '\n');
}


/* the console-like logger a handler gets: its lines carry the trace id */
function requestLogger(id) {
  const tag = '[' + id + '] ';
  const out = (...a) => process.stdout.write(tag + util.format(...a) + '\n');
  const err = (...a) => process.stderr.write(tag + util.format(...a) + '\n');

  return { log: out, debug: out, info: out, warn: err, error: err };
}


module.exports = { setName, info, error, requestLogger };
