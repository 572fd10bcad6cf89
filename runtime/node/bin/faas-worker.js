#!/usr/bin/env node
/*
 * Copyright (C) ngx_faas authors
 *
 * The worker faasd starts for each warm instance of a function; its
 * interface (fds 3 and 4, FAAS_* variables, signals) is in ../README.md.
 */

'use strict';

require('../lib/worker').main(process.env);
