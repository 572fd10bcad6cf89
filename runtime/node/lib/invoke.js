/*
 * Copyright (C) ngx_faas authors
 *
 * One invocation of the handler, in either of its styles: Midway's
 * (ctx), or FC's (event, context[, callback]), whose event and result
 * are mapped here.  Its outcome goes back to the scheduler
 * (completed() or failed()).
 */

'use strict';

const buffer = require('node:buffer');
const { mediaType, isJsonType, isTextType } = require('./context');


/* one invocation; errors, thrown or rejected, become 500s */
async function invoke(worker, ctx) {
  let result;

  try {
    if (worker.eventStyle) {
      result = await callEvent(worker, ctx);

    } else {
      result = await worker.handler(ctx);
    }

  } catch (e) {
    worker.failed(ctx, e);
    return;
  }

  worker.completed(ctx, result);
}


function callEvent(worker, ctx) {
  const fn = worker.handler;
  const event = buildEvent(ctx);
  const context = {
    requestId: ctx.traceId,
    function: worker.fnInfo,
    service: { name: worker.service },
    logger: ctx.logger,
  };

  if (!worker.withCallback) {
    return fn(event, context);
  }

  /* the callback answers; a returned promise only if it has a value */
  return new Promise((resolve, reject) => {
    const r = fn(event, context, (err, res) => (err ? reject(err)
                                                    : resolve(res)));

    if (r && typeof r.then === 'function') {
      r.then((v) => v !== undefined && resolve(v), reject);
    }
  });
}


const isUtf8 = buffer.isUtf8 || (() => true);


function buildEvent(ctx) {
  const raw = ctx.rawBody;
  const mt = mediaType(ctx.findContentType());
  const text = raw.length === 0
               || isTextType(mt) || isJsonType(mt)
               || mt === 'application/x-www-form-urlencoded'
               || mt === 'application/javascript'
               || mt.endsWith('/xml') || mt.endsWith('+xml')
               || (mt === '' && isUtf8(raw));

  return {
    path: ctx.path,
    httpMethod: ctx.method,
    headers: ctx.headers,
    queryParameters: ctx.query,
    pathParameters: ctx.params,
    body: raw.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}


/* { statusCode, headers, body, isBase64Encoded } or a plain body */
function applyEventResult(ctx, r) {
  if (r === null || typeof r !== 'object' || Buffer.isBuffer(r)
      || !('statusCode' in r))
  {
    ctx.body = r === undefined ? '' : r;
    return;
  }

  ctx.status = Number(r.statusCode);

  for (const h of [r.headers, r.multiValueHeaders]) {
    if (h && typeof h === 'object') {
      for (const k of Object.keys(h)) {
        ctx.append(k, h[k]);
      }
    }
  }

  if (r.body !== undefined) {
    ctx.body = r.isBase64Encoded && typeof r.body === 'string'
               ? Buffer.from(r.body, 'base64') : r.body;
  }
}


function errorStatus(err) {
  const s = err ? err.status || err.statusCode : undefined;

  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}


function describe(e) {
  return e instanceof Error ? e.stack : String(e);
}



module.exports = { invoke, applyEventResult, errorStatus, describe };
