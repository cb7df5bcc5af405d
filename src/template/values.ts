// values.ts marks how JavaScript values map onto Go's: plain objects and Maps
// are Go maps (missing key = "<no value>"), objects marked by goStruct are
// structs (missing field = execution error), bigint is int, number is float64.

/** GO_STRUCT holds the struct type name of an object marked by goStruct. */
export const GO_STRUCT = Symbol('goStruct');

/** MAP_ZERO holds the zero value of a typed map's elements (missingkey=zero). */
export const MAP_ZERO = Symbol('mapZero');

/** goStruct marks an object whose fields behave as Go struct fields (missing field = exec error). */
export function goStruct<T extends object>(fields: T, typeName = 'struct'): T {
  Object.defineProperty(fields, GO_STRUCT, { value: typeName, enumerable: false });
  return fields;
}

/** goStringMap marks a map[string]string: with missingkey=zero a missing key is "" rather than nil. */
export function goStringMap<T extends object>(m: T): T {
  Object.defineProperty(m, MAP_ZERO, { value: '', enumerable: false });
  return m;
}
