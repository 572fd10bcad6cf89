'use strict';

exports.handler = async (ctx) => {
  ctx.body = { hello: ctx.query.name || 'world' };
};
