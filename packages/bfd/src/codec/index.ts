/** The pure BFD codec: control packets and their authentication. */
export * from './constants.js';
export * from './control.js';
export * from './auth.js';
