package refserver

// ordered keeps values in the order they were added, with O(1) add and
// amortised O(1) remove, so that tables listed in creation order (Jupyter's
// sessions by SQLite rowid, its kernels by start) stay cheap at tens of
// thousands of rows. The zero value is empty and ready to use; T's zero
// value marks a removed slot.
type ordered[T comparable] struct {
	items []T
	index map[T]int // position in items
	holes int       // removed slots in items
}

func (o *ordered[T]) add(v T) {
	if o.index == nil {
		o.index = map[T]int{}
	}
	o.index[v] = len(o.items)
	o.items = append(o.items, v)
}

func (o *ordered[T]) remove(v T) {
	i, ok := o.index[v]
	if !ok {
		return
	}
	var zero T
	o.items[i] = zero
	delete(o.index, v)
	o.holes++
	if o.holes > 32 && o.holes > len(o.items)/2 {
		o.compact()
	}
}

func (o *ordered[T]) compact() {
	var zero T
	live := o.items[:0]
	for _, v := range o.items {
		if v != zero {
			o.index[v] = len(live)
			live = append(live, v)
		}
	}
	clear(o.items[len(live):])
	o.items, o.holes = live, 0
}

// len is the number of values held.
func (o *ordered[T]) len() int { return len(o.index) }

// values returns the values in order, in a new slice the caller may keep
// while it changes the set.
func (o *ordered[T]) values() []T {
	var zero T
	out := make([]T, 0, o.len())
	for _, v := range o.items {
		if v != zero {
			out = append(out, v)
		}
	}
	return out
}
