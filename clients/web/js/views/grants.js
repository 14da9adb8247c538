// The grants pages of the console.

// The pages this module adds, in navigation order (main.js, SECTIONS).
export const views = [];
