// The coach's page, served from the binary: no CDN, no web font, nothing fetched from
// elsewhere, so it works at a track with no internet. The token travels in the URL's
// fragment (never sent to the server by the browser) and then in an Authorization header, so
// the page is the same for every run and served as its files hold it. Its HTML, CSS and
// JavaScript are the files in Page/, turned into `PageFiles` at build time (the EmbedPage plugin).
// They hold no inline script or style: the Content-Security-Policy allows only 'self'.
enum Page {
    static let html = PageFiles.html
    static let style = PageFiles.style
    static let script = PageFiles.script
}
