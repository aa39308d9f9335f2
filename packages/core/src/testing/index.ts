// @meridian/core/testing — fast-check arbitraries of clocks and CRDTs for property tests.
export * from "./arbitraries.js";
