'use strict';

// A small user service.  The initializer prepares the store once per
// instance, before the instance takes requests; each instance keeps its
// own store, so a GET sees what a POST stored on the same instance.

const region = process.env.USERS_REGION || 'local';

let store = null;

exports.initializer = async (context) => {
  store = new Map();
  context.logger.info('users store ready in %s', region);
};

exports.handler = async (ctx) => {
  const id = ctx.params.id;
  const body = store.has(id) ? store.get(id) : null;

  // /api/users/:id/profile: what the demo's page asks once it has the user
  if (ctx.route === '/api/users/:id/profile') {
    ctx.body = { id, name: body && body.name ? body.name : null, region };
    return;
  }

  if (ctx.method === 'POST') {
    const posted = ctx.request.body === undefined ? null : ctx.request.body;

    store.set(id, posted);
    ctx.status = 201;
    ctx.set('Location', '/api/users/' + encodeURIComponent(id));
    ctx.body = { id, body: posted, region };
    return;
  }

  if (store.has(id)) {
    ctx.body = { id, body, region };
    return;
  }

  ctx.body = { id, region };
};
