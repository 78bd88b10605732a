package auth

// CacheLen returns the number of cached tokens of v, for tests.
func CacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// FastHits returns how many tokens v accepted on its HS256 fast path.
func FastHits(v *Verifier) int64 {
	if v.fast == nil {
		return 0
	}
	return v.fast.hits.Load()
}
