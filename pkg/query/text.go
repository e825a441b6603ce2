package query

var fieldNames = [2]string{"title", "text"}
