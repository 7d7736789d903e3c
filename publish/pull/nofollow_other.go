//go:build !unix

package pull

// oNoFollow is zero where open(2) has no O_NOFOLLOW; the Lstat before the
// open still refuses a link.
const oNoFollow = 0
