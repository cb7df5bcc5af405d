module templatego

go 1.26
