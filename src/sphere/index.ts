export * from "./angles.js";
export * from "./box.js";
export * from "./chunker.js";
export * from "./regions.js";
export * from "./separation.js";
export * from "./vector.js";
