// Package nbformat is the Jupyter notebook document (nbformat v4) as Go
// types: Notebook, its Cells and their Outputs, MIMEBundle (one value in
// several MIME types, as outputs and kernel messages carry it),
// LanguageInfo and metadata.
//
// Parse and the types' MarshalJSON read and write the JSON of an .ipynb
// file or of a contents model's content without losing anything: keys the
// types do not know, and known keys whose value does not fit, are kept raw
// and written back. Encoding is canonical: known keys in nbformat's order,
// others sorted, multiline strings as one string, no HTML escaping.
//
// The package is the document only; it does no I/O. The nbserv client
// reads and saves notebooks through a server's contents API
// (ContentsService.GetNotebook and SaveNotebook), and kernel messages
// carry MIMEBundle and LanguageInfo.
package nbformat
