'use strict';

// Version 2 of hello, deployed beside version 1 by `make run` for its
// gray release: the same route, a greeting added to the answer so that
// the version that answered shows.  Not a manifest of the demo: the
// glob examples/*/f.yml does not reach it.

exports.handler = async (ctx) => {
  const name = ctx.query.name || 'world';

  ctx.body = { hello: name, greeting: 'Hello, ' + name + '!' };
};
