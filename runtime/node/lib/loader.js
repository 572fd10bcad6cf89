/*
 * Copyright (C) ngx_faas authors
 *
 * Loads "file.export" references (handler, initializer) the way Midway's
 * generated entry does, relative to the function's code root.
 */

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');


class LoadError extends Error {}


/* "src/api.get" -> { file: "<dir>/src/api.js", name: "get" } */
function resolve(codeDir, ref) {
  const dot = ref.lastIndexOf('.');

  if (dot <= 0 || dot === ref.length - 1) {
    throw new LoadError('"' + ref + '" is not of the form file.export');
  }

  const name = ref.slice(dot + 1);
  let file = path.resolve(codeDir, ref.slice(0, dot));

  if (!isFile(file)) {
    for (const ext of ['.js', '.cjs', '.mjs']) {
      if (isFile(file + ext)) {
        file += ext;
        break;
      }
    }
  }

  return { file, name };
}


function isFile(p) {
  try {
    return fs.statSync(p).isFile();

  } catch (e) {
    return false;
  }
}


/* the exported function; ES modules are imported when require refuses */
async function load(codeDir, ref, what) {
  const { file, name } = resolve(codeDir, ref);
  let mod;

  if (!isFile(file)) {
    throw new LoadError(what + ' "' + ref + '": no file ' + file
                        + '(.js) in ' + codeDir);
  }

  try {
    mod = file.endsWith('.mjs') ? await importFile(file) : require(file);

  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') {
      mod = await importFile(file);

    } else {
      throw new LoadError(what + ' "' + ref + '": loading ' + file
                          + ' failed', { cause: e });
    }
  }

  let fn = mod == null ? undefined : mod[name];

  /* an ES module's default export may hold the named one */
  if (fn === undefined && mod && mod.default && name !== 'default') {
    fn = mod.default[name];
  }

  if (typeof fn !== 'function') {
    throw new LoadError(what + ' "' + ref + '": ' + file + ' exports no'
                        + ' function "' + name + '" (found '
                        + (fn === null ? 'null' : typeof fn) + ')');
  }

  return fn;
}


function importFile(file) {
  return import(pathToFileURL(file).href);
}


module.exports = { load, resolve, LoadError };
