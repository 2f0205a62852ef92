package cli

// The progress bar and the end summary of `zerobus send`.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	english "github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// progressInterval is the redraw period of the progress bar (at most 5
// redraws a second).
const progressInterval = 200 * time.Millisecond

// barWidth is the number of cells of the bar itself.
const barWidth = 24

// counters are the running totals of a send. They are updated by the send
// loop and read concurrently by the progress display.
type counters struct {
	rowsRead   atomic.Int64 // rows handed to the Wrapper
	rowsSent   atomic.Int64 // rows acknowledged (converted, with -dry-run)
	rowsFailed atomic.Int64
	// rowsUnknown: failed rows sent without an acknowledgement (they may
	// be stored; core.RowUnknown), a part of rowsFailed.
	rowsUnknown atomic.Int64
	bytes       atomic.Int64 // encoded bytes (protobuf, or Arrow IPC with arrow_flight) of the rows acknowledged
	batches     atomic.Int64 // batches resolved
	// batchesQueued: batches handed to the Wrapper (resolved or not)
	batchesQueued atomic.Int64
	filesDone     atomic.Int64
	current       atomic.Pointer[input] // the file being read
	fileRow       atomic.Int64          // rows of the current file read so far
	totalRows     int64                 // all files' rows; -1 if unknown
	// noTotal: an input is read from a pipe: no part of the whole is known,
	// the bar shows the rows so far only.
	noTotal    bool
	totalFiles int
	start      time.Time
}

// progressSnapshot is what one redraw shows.
type progressSnapshot struct {
	done       int64 // rows resolved (sent + failed)
	sent       int64 // rows acknowledged (converted, with -dry-run): the rate's rows, as the summary's throughput
	failed     int64
	unknown    int64   // of failed: sent without an acknowledgement, may be stored
	total      int64   // -1 if unknown
	fraction   float64 // overall, in [0, 1]
	noFraction bool    // no part of the whole is known (a pipe): rows so far only
	bytes      int64
	elapsed    time.Duration
	file, nfil int // 1-based current file and number of files
}

func (c *counters) snapshot(now time.Time) progressSnapshot {
	s := progressSnapshot{
		sent:       c.rowsSent.Load(),
		failed:     c.rowsFailed.Load(),
		unknown:    c.rowsUnknown.Load(),
		total:      c.totalRows,
		bytes:      c.bytes.Load(),
		elapsed:    now.Sub(c.start),
		nfil:       c.totalFiles,
		noFraction: c.noTotal,
	}
	s.done = s.sent + s.failed
	filesDone := c.filesDone.Load()
	s.file = int(min(filesDone+1, int64(c.totalFiles)))
	switch {
	case s.total > 0:
		s.fraction = float64(s.done) / float64(s.total)
	case s.total == 0:
		s.fraction = 1
	case c.totalFiles > 0:
		f := float64(filesDone)
		if in := c.current.Load(); in != nil && filesDone < int64(c.totalFiles) {
			f += in.fraction()
		}
		s.fraction = f / float64(c.totalFiles)
	}
	s.fraction = max(0, min(1, s.fraction))
	return s
}

// renderBar draws one progress line (no line ending), e.g.
//
//	[###########.............]  45%  450,000/1,000,000 rows  98,213 rows/s  1.2 MB/s  4.6s
//
// Failed rows are counted as the summary counts them, with those that may
// be stored ("3 failed (2 unknown, may be stored)"); rows/s counts the rows
// sent (acknowledged), as the summary's throughput does.
func renderBar(s progressSnapshot) string {
	filled := int(s.fraction * barWidth)
	var b strings.Builder
	if s.noFraction { // a pipe: how much is left is not known
		fmt.Fprintf(&b, "%s rows so far", thousands(s.done))
	} else {
		b.WriteByte('[')
		b.WriteString(strings.Repeat("#", filled))
		b.WriteString(strings.Repeat(".", barWidth-filled))
		fmt.Fprintf(&b, "] %3d%%  ", int(s.fraction*100))
	}
	switch {
	case s.noFraction: // said above
	case s.total >= 0:
		fmt.Fprintf(&b, "%s/%s rows", thousands(s.done), thousands(s.total))
	default:
		fmt.Fprintf(&b, "%s rows", thousands(s.done))
	}
	if s.nfil > 1 {
		fmt.Fprintf(&b, " (file %d/%d)", s.file, s.nfil)
	}
	if s.failed > 0 {
		fmt.Fprintf(&b, "  %s failed", thousands(s.failed))
		if s.unknown > 0 {
			fmt.Fprintf(&b, " (%s unknown, may be stored)", thousands(s.unknown))
		}
	}
	secs := s.elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(&b, "  %s rows/s  %.1f MB/s", thousands(int64(float64(s.sent)/secs)), float64(s.bytes)/1e6/secs)
	}
	fmt.Fprintf(&b, "  %s", s.elapsed.Round(100*time.Millisecond))
	return b.String()
}

// progressBar redraws renderBar on w every progressInterval until stopped.
type progressBar struct {
	w    io.Writer
	c    *counters
	now  func() time.Time
	stop chan struct{}
	done sync.WaitGroup
	last int // length of the last line, to blank leftovers
}

func startProgress(w io.Writer, c *counters, now func() time.Time) *progressBar {
	p := &progressBar{w: w, c: c, now: now, stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progressBar) draw() {
	line := renderBar(p.c.snapshot(p.now()))
	if lw, ok := p.w.(*lockedWriter); ok {
		lw.drawLine(line)
		return
	}
	pad := ""
	if n := p.last - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.last = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// Stop draws the final state and ends the line. Safe to call once.
func (p *progressBar) Stop() {
	close(p.stop)
	p.done.Wait()
	p.draw()
	if lw, ok := p.w.(*lockedWriter); ok {
		lw.endLine()
		return
	}
	fmt.Fprintln(p.w)
}

// isTerminal reports whether w is a character device (a terminal), which is
// when -progress=auto draws the bar.
func isTerminal(w io.Writer, lookupEnv func(string) (string, bool)) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	term, _ := lookupEnv("TERM")
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && term != "dumb"
}

// failureSample is a run of consecutive failed rows of one file that failed
// with the same reason, shown in the summary on one line.
type failureSample struct {
	file      string
	row, last int64 // 0-based rows in the file, first and last
	err       error
	reason    string // describeRowError(err)
}

// failureLog records the failed rows of a send: every row counted, runs
// of consecutive rows of one file with the same reason, the first
// maxFailureSamples runs (-json failed_rows) and the runs grouped by file
// and reason (the text summary: one line per reason).
type failureLog struct {
	samples []failureSample // the first maxFailureSamples runs
	runs    int64           // every run
	rows    int64
	groups  []*failureGroup // by file and reason, in the order of their first row, up to maxFailureGroups
	byKey   map[[2]string]*failureGroup
	// otherRows failed with a reason beyond the first maxFailureGroups.
	otherRows int64
	// the current run (the last row added): where it is in samples and in
	// its group's runs (-1: not listed there), and its group (nil: other)
	cur         failureSample
	curSample   int
	curGroup    *failureGroup
	curGroupRun int
}

// failureGroup is the runs of failed rows of one file with one reason.
type failureGroup struct {
	file, reason string
	err          error
	runs         []failureSample // the first maxGroupRuns
	nRuns, rows  int64
}

// add records a failed row (rows arrive in order within a file): it
// extends the current run when the row follows it with the same reason,
// else starts a new one.
func (l *failureLog) add(file string, row int64, err error) {
	reason := describeRowError(err)
	l.rows++
	if l.runs > 0 && l.cur.file == file && l.cur.last+1 == row && l.cur.reason == reason {
		l.cur.last = row
		if l.curSample >= 0 {
			l.samples[l.curSample].last = row
		}
		if l.curGroup == nil {
			l.otherRows++
			return
		}
		l.curGroup.rows++
		if l.curGroupRun >= 0 {
			l.curGroup.runs[l.curGroupRun].last = row
		}
		return
	}
	l.runs++
	l.cur = failureSample{file: file, row: row, last: row, err: err, reason: reason}
	l.curSample, l.curGroupRun = -1, -1
	if len(l.samples) < maxFailureSamples {
		l.samples = append(l.samples, l.cur)
		l.curSample = len(l.samples) - 1
	}
	key := [2]string{file, reason}
	g := l.byKey[key]
	if g == nil && len(l.groups) < maxFailureGroups {
		if l.byKey == nil {
			l.byKey = map[[2]string]*failureGroup{}
		}
		g = &failureGroup{file: file, reason: reason, err: err}
		l.byKey[key] = g
		l.groups = append(l.groups, g)
	}
	l.curGroup = g
	if g == nil {
		l.otherRows++
		return
	}
	g.rows++
	g.nRuns++
	if len(g.runs) < maxGroupRuns {
		g.runs = append(g.runs, l.cur)
		l.curGroupRun = len(g.runs) - 1
	}
}

const (
	// maxFailureSamples bounds the runs of failed rows -json lists.
	maxFailureSamples = 10
	// maxFailureGroups bounds the reasons the text summary lists, and
	// maxGroupRuns the runs it lists for each.
	maxFailureGroups = 10
	maxGroupRuns     = 5
)

// rowRun is a run of rows as the summary prints it: "7" or "7..9".
func rowRun(f failureSample) string {
	if f.last > f.row {
		return fmt.Sprintf("%d..%d", f.row, f.last)
	}
	return fmt.Sprint(f.row)
}

// plural is "1 range", "3 ranges".
func plural(n int64, one string) string { return thousands(n) + " " + one + english.S(n) }

// summary is everything the end summary reports.
type summary struct {
	table      string
	transport  string // core.Config.Transport: what the bytes counted are
	files      []string
	dryRun     bool
	rowsRead   int64
	rowsTotal  int64 // the rows of every file, counted before sending or read to the end; -1 if not known
	rowsSent   int64
	rowsFailed int64
	// rowsUnknown of the failed rows were sent without an acknowledgement:
	// they may be stored (the rest were certainly not written).
	rowsUnknown int64
	byKind      map[core.ErrorKind]int64
	bytes       int64
	batches     int64
	elapsed     time.Duration
	fails       *failureLog
	quarantine  []quarantineFile // files written, with their row counts
	stopped     error            // why reading stopped early, if it did
	// stoppedJSON, if set, is stopped's text for -json (which has no
	// "above" and "below")
	stoppedJSON string
	filesDone   int64
	// interrupted: reading stopped at an interrupt; the batches in flight
	// had grace to finish, and were cancelled after it when graceExpired.
	interrupted  bool
	grace        time.Duration
	graceExpired bool
	storedRows   *int64 // rows the -local server holds
	// recoveries: stream recoveries that re-sent requests; rowsResent: the
	// rows they wrote again (delivery is at-least-once: an upper bound of
	// the rows stored twice).
	recoveries, rowsResent int64
}

// write prints the summary, e.g.
//
//	sent 3 files to main.default.events
//	  rows sent:    999,997 of 1,000,000
//	  rows failed:  3 (conversion=3)
//	  ...
func (s *summary) write(w io.Writer) {
	verb := "sent"
	if s.dryRun {
		verb = "converted (-dry-run, nothing sent)"
	}
	nfiles := fmt.Sprintf("%d files", len(s.files))
	if len(s.files) == 1 {
		nfiles = inputName(s.files[0])
	}
	fmt.Fprintf(w, "%s %s to %s\n", verb, nfiles, s.table)
	sent := "rows sent:"
	if s.dryRun {
		sent = "converted:" // nothing was sent
	}
	if s.rowsTotal > s.rowsRead { // stopped early: where to resume
		fmt.Fprintf(w, "  %s    %s of %s (%s not read)\n", sent, thousands(s.rowsSent), thousands(s.rowsTotal), thousands(s.rowsTotal-s.rowsRead))
	} else {
		fmt.Fprintf(w, "  %s    %s of %s\n", sent, thousands(s.rowsSent), thousands(s.rowsRead))
	}
	fmt.Fprintf(w, "  rows failed:  %s", thousands(s.rowsFailed))
	if len(s.byKind) > 0 {
		kinds := make([]string, 0, len(s.byKind))
		for k, n := range s.byKind {
			kinds = append(kinds, fmt.Sprintf("%s=%s", k, thousands(n)))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, " (%s%s)", strings.Join(kinds, ", "), unknownNote(s.rowsUnknown))
	}
	fmt.Fprintln(w)
	encoded := "encoded protobuf"
	switch {
	case s.transport == core.TransportArrowFlight && s.dryRun:
		encoded = "Arrow (in memory)" // the cast batch, not encoded: core.Result.BatchSizeBytes
	case s.transport == core.TransportArrowFlight:
		encoded = "Arrow IPC"
	}
	fmt.Fprintf(w, "  bytes:        %s (%s %s)\n", thousands(s.bytes), humanBytes(s.bytes), encoded)
	fmt.Fprintf(w, "  batches:      %s\n", thousands(s.batches))
	fmt.Fprintf(w, "  duration:     %s\n", s.elapsed.Round(time.Millisecond))
	if secs := s.elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(w, "  throughput:   %s rows/s, %.1f MB/s\n", thousands(int64(float64(s.rowsSent)/secs)), float64(s.bytes)/1e6/secs) // rows sent, not failed
	}
	if s.recoveries > 0 || s.rowsResent > 0 {
		fmt.Fprintf(w, "  recovered:    %s; up to %s rows re-sent (possible duplicates)\n", plural(s.recoveries, "stream"), thousands(s.rowsResent))
	}
	switch {
	case len(s.quarantine) > 0:
		for _, q := range s.quarantine {
			fmt.Fprintf(w, "  quarantine:   %s failed rows written to %s (Arrow IPC stream)\n", thousands(q.rows), q.path)
		}
		if s.rowsUnknown > 0 {
			fmt.Fprintf(w, "  quarantine:   %s of them are unknown (sent without an acknowledgement): re-send them only where duplicates are removed\n",
				thousands(s.rowsUnknown))
		}
	case s.rowsFailed > 0:
		fmt.Fprintln(w, "  quarantine:   none (use -quarantine FILE to keep the failed rows)")
	}
	if s.interrupted {
		fmt.Fprintf(w, "  interrupted:  %s\n", s.interruptText())
	}
	stopped := ""
	if s.stopped != nil {
		stopped = trimPrefix(s.stopped)
		fmt.Fprintf(w, "  stopped early: %s\n", stopped)
	}
	if l := s.fails; l != nil && l.rows > 0 {
		fmt.Fprintf(w, "  failed rows (%s in %s; rows count from 0 in each file):\n", plural(l.rows, "row"), plural(l.runs, "range"))
		for _, g := range l.groups {
			reason := g.reason
			if stopped != "" && trimPrefix(g.err) == stopped {
				reason = fmt.Sprintf("[%s] the error that stopped the run (above)", core.KindOf(g.err))
			}
			if g.nRuns == 1 {
				rows := "row " + rowRun(g.runs[0])
				if g.runs[0].last > g.runs[0].row {
					rows = "rows " + rowRun(g.runs[0])
				}
				fmt.Fprintf(w, "    %s %s: %s\n", inputName(g.file), rows, reason) // as given: a/x.parquet and b/x.parquet differ
				continue
			}
			runs := make([]string, 0, len(g.runs)+1)
			for _, r := range g.runs {
				runs = append(runs, rowRun(r))
			}
			if g.nRuns > int64(len(g.runs)) {
				runs = append(runs, "…")
			}
			fmt.Fprintf(w, "    %s rows %s (%s in %s): %s\n", inputName(g.file), strings.Join(runs, ", "), plural(g.rows, "row"), plural(g.nRuns, "range"), reason)
		}
		if l.otherRows > 0 {
			fmt.Fprintf(w, "    and %s with other reasons (not listed)\n", plural(l.otherRows, "more row"))
		}
	}
}

// interruptText says where an interrupt stopped the run and what became of
// the batches in flight.
func (s *summary) interruptText() string {
	text := fmt.Sprintf("reading stopped after %d of %d files; ", s.filesDone, len(s.files))
	if s.graceExpired {
		return text + fmt.Sprintf("the batches still in flight after the %s grace (-grace) were cancelled: "+
			"their rows count as failed (the unknown ones may be stored)", s.grace)
	}
	return text + "the batches in flight finished"
}

// summaryJSON is the summary as `send -json` prints it (one object, one
// line). Keys are stable; counts are numbers, duration_s is in seconds.
type summaryJSON struct {
	Success   bool     `json:"success"`
	Table     string   `json:"table"`
	DryRun    bool     `json:"dry_run"`
	Files     []string `json:"files"`
	FilesDone int64    `json:"files_done"`
	RowsRead  int64    `json:"rows_read"`
	// RowsTotal: the rows of every file, counted before sending (Parquet),
	// else, when every file was read to its end, the rows read; null when
	// a file without a count (Arrow IPC, CSV, a pipe) was not read to its
	// end.
	RowsTotal  *int64 `json:"rows_total"`
	RowsSent   int64  `json:"rows_sent"`
	RowsFailed int64  `json:"rows_failed"`
	// RowsNotWritten + RowsUnknown = RowsFailed: certainly not stored, and
	// sent without an acknowledgement (they may be stored).
	RowsNotWritten int64            `json:"rows_not_written"`
	RowsUnknown    int64            `json:"rows_unknown"`
	FailedByKind   map[string]int64 `json:"failed_by_kind"`
	Bytes          int64            `json:"bytes"`
	Batches        int64            `json:"batches"`
	DurationS      float64          `json:"duration_s"`
	RowsPerS       float64          `json:"rows_per_s"`
	FailedRows     []failedRunJSON  `json:"failed_rows"`
	// FailedRowsTruncated: FailedRows lists the first of FailedRowRanges
	// ranges only.
	FailedRowsTruncated bool             `json:"failed_rows_truncated"`
	FailedRowRanges     int64            `json:"failed_row_ranges"`
	Quarantine          []quarantineJSON `json:"quarantine"`
	Stopped             string           `json:"stopped,omitempty"`
	Error               string           `json:"error,omitempty"`
	Interrupted         bool             `json:"interrupted"`
	// GraceExpired: after the interrupt, the batches still in flight at
	// the end of -grace were cancelled.
	GraceExpired bool   `json:"grace_expired"`
	Interruption string `json:"interruption,omitempty"`
	StoredRows   *int64 `json:"stored_rows,omitempty"`
	// StreamRecoveries: stream recoveries that re-sent requests; RowsResent:
	// the rows written again (an upper bound of the rows stored twice).
	StreamRecoveries int64 `json:"stream_recoveries"`
	RowsResent       int64 `json:"rows_resent"`
}

// failedRunJSON is one line of "failed rows" (a run of rows of one file
// that failed for the same reason).
type failedRunJSON struct {
	File     string `json:"file"`
	FirstRow int64  `json:"first_row"`
	LastRow  int64  `json:"last_row"`
	Kind     string `json:"kind"`
	Reason   string `json:"reason"`
}

type quarantineJSON struct {
	Path string `json:"path"`
	Rows int64  `json:"rows"`
}

// writeJSON prints the summary as one JSON line; runErr and closeErr are
// the errors that ended the run, if any (the command prints them on stderr
// as well).
func (s *summary) writeJSON(w io.Writer, runErr, closeErr error) error {
	out := summaryJSON{
		Table: s.table, DryRun: s.dryRun, Files: s.files, FilesDone: s.filesDone,
		RowsRead: s.rowsRead, RowsSent: s.rowsSent, RowsFailed: s.rowsFailed,
		RowsNotWritten: s.rowsFailed - s.rowsUnknown, RowsUnknown: s.rowsUnknown,
		FailedByKind: map[string]int64{}, Bytes: s.bytes, Batches: s.batches,
		DurationS: s.elapsed.Seconds(), FailedRows: []failedRunJSON{}, Quarantine: []quarantineJSON{},
		Interrupted: s.interrupted, GraceExpired: s.graceExpired, StoredRows: s.storedRows,
		StreamRecoveries: s.recoveries, RowsResent: s.rowsResent,
	}
	if s.interrupted {
		out.Interruption = s.interruptText()
	}
	if s.rowsTotal >= 0 {
		n := s.rowsTotal
		out.RowsTotal = &n
	}
	if secs := s.elapsed.Seconds(); secs > 0 {
		out.RowsPerS = float64(s.rowsSent) / secs // rows sent, not failed
	}
	for k, n := range s.byKind {
		out.FailedByKind[string(k)] = n
	}
	var samples []failureSample
	if s.fails != nil {
		samples = s.fails.samples
		out.FailedRowRanges = s.fails.runs
		out.FailedRowsTruncated = s.fails.runs > int64(len(samples))
	}
	for _, f := range samples {
		kind := string(core.KindOf(f.err))
		out.FailedRows = append(out.FailedRows, failedRunJSON{File: f.file, FirstRow: f.row, LastRow: f.last, Kind: kind,
			Reason: strings.TrimPrefix(f.reason, "["+kind+"] ")})
	}
	for _, q := range s.quarantine {
		out.Quarantine = append(out.Quarantine, quarantineJSON{Path: q.path, Rows: q.rows})
	}
	if s.stopped != nil {
		out.Stopped = cmp.Or(s.stoppedJSON, trimPrefix(s.stopped))
	}
	switch {
	case runErr != nil:
		out.Error = trimPrefix(runErr)
	case closeErr != nil:
		out.Error = "closing the stream: " + trimPrefix(closeErr)
	}
	out.Success = s.rowsFailed == 0 && out.Error == "" && out.Stopped == "" && !s.interrupted
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// unknownNote is what the summary and the exit error add about the failed
// rows whose outcome is unknown: they were sent and may be stored, so
// re-sending them can duplicate them ("" when there are none).
func unknownNote(unknown int64) string {
	if unknown == 0 {
		return ""
	}
	return fmt.Sprintf("; %s unknown: sent without an acknowledgement, they may be stored", thousands(unknown))
}

// trimPrefix is err's message without the library's "zerobus: " prefix,
// which the command's own messages do not repeat.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "zerobus: ")
}

// describeRowError is the reason of a failed row without the batch-relative
// row number that the error message itself carries.
func describeRowError(err error) string {
	var ce *core.ConversionError
	if errors.As(err, &ce) && ce.Reason != "" {
		if ce.Column != "" {
			return fmt.Sprintf("[%s] column %q: %s", core.KindConversion, ce.Column, ce.Reason)
		}
		return fmt.Sprintf("[%s] %s", core.KindConversion, ce.Reason)
	}
	return fmt.Sprintf("[%s] %s", core.KindOf(err), trimPrefix(err))
}

// thousands formats n with comma separators: 1234567 -> "1,234,567".
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// humanBytes formats n in binary units: 1536 -> "1.5 KiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
