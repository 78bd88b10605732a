package redisstore

// GrowBuckets exposes growBuckets to the external tests.
var GrowBuckets = growBuckets
