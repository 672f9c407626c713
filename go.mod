module slidestream

go 1.26.8

require (
	github.com/disintegration/imaging v1.6.2
	golang.org/x/image v0.47.0
)

require golang.org/x/sync v0.24.0
