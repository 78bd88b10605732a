package auth

// CacheLen returns the number of cached tokens of v, for tests.
func CacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}
