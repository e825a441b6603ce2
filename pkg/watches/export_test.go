package watches

// Settle is settle, for the tests of package watches_test.
const Settle = settle
