package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// maxStatusRunes keeps the status line within an 80-column terminal, so
// that it never wraps (a wrapped line cannot be redrawn in place).
const maxStatusRunes = 79

// statusEvery is how often the status line is redrawn, so that the time
// goes on during a long cell.
const statusEvery = time.Second

// isTerminal reports whether w is a character device: a terminal (or
// /dev/null, where the status line is discarded unseen). The test is
// portable, unlike asking the terminal driver, and needs no dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// console serialises the program's writes to stdout and stderr and, when
// stderr is a terminal, keeps a status line there: the cell each running
// notebook is at, of how many, and the time so far. The line is cleared
// before any other write, so it never mixes with them, and redrawn after.
type console struct {
	mu       sync.Mutex
	out, err io.Writer
	terminal bool
	named    bool // several notebooks: the line names each
	shown    bool // the status line is on the terminal
	running  []*progress
	ticker   *time.Ticker
	stop     chan struct{}
	stopped  sync.WaitGroup
}

// progress is one running notebook's place.
type progress struct {
	name        string
	done, total int
	start       time.Time
}

// newConsole writes to stdout and stderr, with a status line on stderr
// when terminal is true, naming each notebook when named is.
func newConsole(stdout, stderr io.Writer, terminal, named bool) *console {
	return &console{out: stdout, err: stderr, terminal: terminal, named: named}
}

// consoleWriter writes to one of the console's streams.
type consoleWriter struct {
	c   *console
	dst io.Writer
}

func (w consoleWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.clearLocked() // redrawn by the next tick or cell
	return w.dst.Write(p)
}

func (c *console) stdout() io.Writer { return consoleWriter{c, c.out} }
func (c *console) stderr() io.Writer { return consoleWriter{c, c.err} }

// begin shows a notebook with total cells to run on the status line, and
// starts redrawing the line every statusEvery until close.
func (c *console) begin(name string, total int) {
	if !c.terminal {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = append(c.running, &progress{name: name, total: total, start: time.Now()})
	if c.ticker == nil {
		c.ticker, c.stop = time.NewTicker(statusEvery), make(chan struct{})
		c.stopped.Add(1)
		go c.tick(c.ticker, c.stop)
	}
	c.drawLocked()
}

// tick redraws the status line until stop is closed.
func (c *console) tick(t *time.Ticker, stop chan struct{}) {
	defer c.stopped.Done()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.mu.Lock()
			c.drawLocked()
			c.mu.Unlock()
		}
	}
}

// advance records that a notebook's done cells have run.
func (c *console) advance(name string, done int) {
	if !c.terminal {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.running {
		if p.name == name {
			p.done = done
		}
	}
	c.drawLocked()
}

// end takes a notebook off the status line.
func (c *console) end(name string) {
	if !c.terminal {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.running {
		if p.name == name {
			c.running = append(c.running[:i], c.running[i+1:]...)
			break
		}
	}
	c.drawLocked()
}

// close stops the redrawing, waiting for it, and clears the line.
func (c *console) close() {
	c.mu.Lock()
	if c.ticker != nil {
		c.ticker.Stop()
		close(c.stop)
		c.ticker = nil
	}
	c.mu.Unlock()
	c.stopped.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
}

// clearLocked erases the status line.
func (c *console) clearLocked() {
	if c.shown {
		_, _ = io.WriteString(c.err, "\r\x1b[K")
		c.shown = false
	}
}

// drawLocked writes the status line afresh, or clears it when nothing
// runs.
func (c *console) drawLocked() {
	if !c.terminal {
		return
	}
	if len(c.running) == 0 {
		c.clearLocked()
		return
	}
	parts := make([]string, len(c.running))
	for i, p := range c.running {
		cell := min(p.done+1, p.total)
		parts[i] = fmt.Sprintf("cell %d of %d, %s", cell, p.total, time.Since(p.start).Truncate(time.Second))
		if c.named {
			parts[i] = shortName(p.name) + " " + parts[i]
		}
	}
	line := strings.Join(parts, " | ")
	if r := []rune(line); len(r) > maxStatusRunes {
		line = string(r[:maxStatusRunes-1]) + "…"
	}
	_, _ = io.WriteString(c.err, "\r\x1b[K"+line)
	c.shown = true
}

// maxNameRunes bounds a notebook's name on the status line, so that its
// cell and time still fit.
const maxNameRunes = 24

// shortName is the last element of a local or server path, cut to
// maxNameRunes.
func shortName(name string) string {
	r := []rune(name[strings.LastIndexAny(name, `/\`)+1:])
	if len(r) > maxNameRunes {
		return string(r[:maxNameRunes-1]) + "…"
	}
	return string(r)
}
