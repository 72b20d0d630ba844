package nbserv

// TypeNotebook is the 0.2 name of SessionNotebook and ContentsNotebook,
// kept as an untyped constant (it fits both) while callers move to the
// typed names.
//
// Deprecated: use SessionNotebook for a session's type and
// ContentsNotebook for a contents model's.
const TypeNotebook = "notebook"
