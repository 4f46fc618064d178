/** The pure BFD codec: control packets, their authentication, echo packets and frames. */
export * from './constants.js';
export * from './control.js';
export * from './auth.js';
export * from './echo.js';
