// SPDX-License-Identifier: GPL-2.0
/*
 * One B+tree implementation for the exception tree and the snapshot
 * tree: 12-byte keys (u64, u32), fixed-size values per tree.
 *
 * Invariants (ssnap_check verifies them):
 *   - keys strictly increase within a node and across leaves;
 *   - internal key i is exactly the smallest key under child i;
 *   - every node but the root holds at least one entry;
 *   - all leaves are at level 0, the root at depth - 1.
 *
 * Inserts split full nodes on the way down, so a split never has to go
 * back up.  Removals merge a node that falls under a quarter full into a
 * sibling when both fit in one node, and free empty nodes.
 *
 * Costs: lookup, insert and remove read depth blocks (3 for ten million
 * exceptions) and dirty at most 2 * depth + 2.
 */
#include "internal.h"

struct nref {
	struct ssnap_block *b;
	struct ssnap_disk_node *n;
	struct ssnap_disk_key *keys;
	u8 *vals;
	u32 nr, cap, vsz, level;
};

struct bpath {
	u64 nr[SSNAP_MAX_DEPTH];
	u32 idx[SSNAP_MAX_DEPTH];
};

u32 ssnap_node_cap(u32 level, u32 vsize)
{
	return (SSNAP_BLOCK_SIZE - sizeof(struct ssnap_disk_node)) /
		(sizeof(struct ssnap_disk_key) + (level ? 8 : vsize));
}

static void nref_setup(struct nref *r, struct ssnap_block *b, u32 level,
		       u32 vsize)
{
	r->b = b;
	r->n = b->data;
	r->level = level;
	r->vsz = level ? 8 : vsize;
	r->cap = ssnap_node_cap(level, vsize);
	r->keys = ssnap_node_keys(b->data);
	r->vals = ssnap_node_vals(b->data, r->cap);
	r->nr = le16_to_cpu(r->n->nr);
}

static int node_get(struct ssnap_store *s, struct ssnap_tree *t, u64 nr,
		    u32 level, struct nref *r)
{
	struct ssnap_block *b;
	struct ssnap_disk_node *n;
	int err = ssnap_bread(s, nr, level ? SSNAP_BT_NODE : SSNAP_BT_LEAF,
			      &b);

	if (err)
		return err;
	n = b->data;
	nref_setup(r, b, level, t->vsize);
	if (le16_to_cpu(n->level) != level || le16_to_cpu(n->tree) != t->id ||
	    le16_to_cpu(n->value_size) != r->vsz || r->nr > r->cap ||
	    (!r->nr && (level || nr != t->root))) {
		ssnap_err("metadata block %llu: %s header does not fit its tree",
			  (unsigned long long)nr,
			  ssnap_block_type_name(b->type));
		ssnap_bput(s, b);
		return -EILSEQ;
	}
	if (!b->checked) {
		/*
		 * Once per load: a node whose keys are out of order is
		 * damaged, even if its checksum holds.
		 */
		struct ssnap_key a, c;
		u32 i;

		for (i = 1; i < r->nr; i++) {
			ssnap_key_get(&r->keys[i - 1], &a);
			ssnap_key_get(&r->keys[i], &c);
			if (ssnap_key_cmp(&a, &c) >= 0) {
				ssnap_err("metadata block %llu: keys out of order",
					  (unsigned long long)nr);
				ssnap_bput(s, b);
				return -EILSEQ;
			}
		}
		b->checked = true;
	}
	return 0;
}

static void node_put(struct ssnap_store *s, struct nref *r)
{
	ssnap_bput(s, r->b);
	r->b = NULL;
}

static void node_set_nr(struct ssnap_store *s, struct nref *r, u32 nr)
{
	r->nr = nr;
	r->n->nr = cpu_to_le16(nr);
	ssnap_bdirty(s, r->b);
}

static u64 child_at(const struct nref *r, u32 i)
{
	__le64 v;

	memcpy(&v, r->vals + (size_t)i * 8, 8);
	return le64_to_cpu(v);
}

static void child_set(struct nref *r, u32 i, u64 child)
{
	__le64 v = cpu_to_le64(child);

	memcpy(r->vals + (size_t)i * 8, &v, 8);
}

static void key_at(const struct nref *r, u32 i, struct ssnap_key *k)
{
	ssnap_key_get(&r->keys[i], k);
}

/* Number of keys <= key, i.e. the index of the first key > key. */
static u32 upper_bound(const struct nref *r, const struct ssnap_key *key)
{
	u32 lo = 0, hi = r->nr;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;
		struct ssnap_key k;

		key_at(r, mid, &k);
		if (ssnap_key_cmp(&k, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first key >= key. */
static u32 lower_bound(const struct nref *r, const struct ssnap_key *key)
{
	u32 lo = 0, hi = r->nr;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;
		struct ssnap_key k;

		key_at(r, mid, &k);
		if (ssnap_key_cmp(&k, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Make room at i, or close the gap at i, in both arrays. */
static void entries_shift(struct nref *r, u32 i, bool open)
{
	u32 n = r->nr - i - (open ? 0 : 1);
	u32 from = open ? i : i + 1, to = open ? i + 1 : i;

	memmove(&r->keys[to], &r->keys[from], n * sizeof(*r->keys));
	memmove(r->vals + (size_t)to * r->vsz, r->vals + (size_t)from * r->vsz,
		(size_t)n * r->vsz);
}

static int node_new(struct ssnap_store *s, struct ssnap_tree *t, u32 level,
		    struct nref *r)
{
	struct ssnap_block *b;
	u64 nr;
	int err = ssnap_alloc_meta(s, &nr);

	if (err)
		return err;
	err = ssnap_bnew(s, nr, level ? SSNAP_BT_NODE : SSNAP_BT_LEAF, &b);
	if (err)
		return err;
	nref_setup(r, b, level, t->vsize);
	r->n->level = cpu_to_le16(level);
	r->n->tree = cpu_to_le16(t->id);
	r->n->value_size = cpu_to_le16(r->vsz);
	node_set_nr(s, r, 0);
	return 0;
}

int ssnap_btree_create(struct ssnap_store *s, struct ssnap_tree *t)
{
	struct nref r;
	int err;

	t->root = 0;
	err = node_new(s, t, 0, &r);
	if (err)
		return err;
	t->root = r.b->nr;
	t->depth = 1;
	node_put(s, &r);
	ssnap_root_dirty(s);
	return 0;
}

int ssnap_btree_le(struct ssnap_store *s, struct ssnap_tree *t,
		   const struct ssnap_key *key, struct ssnap_key *found,
		   void *val)
{
	u64 nr = t->root;
	u32 level = t->depth - 1;
	struct nref r;
	u32 i;
	int err;

	for (;;) {
		err = node_get(s, t, nr, level, &r);
		if (err)
			return err;
		i = upper_bound(&r, key);
		if (!i) {
			node_put(s, &r);
			return -ENODATA;
		}
		i--;
		if (!level)
			break;
		nr = child_at(&r, i);
		node_put(s, &r);
		level--;
	}
	key_at(&r, i, found);
	if (val)
		memcpy(val, r.vals + (size_t)i * r.vsz, r.vsz);
	node_put(s, &r);
	if (ssnap_key_cmp(found, key) > 0)
		return -EILSEQ;
	return 0;
}

int ssnap_btree_ge(struct ssnap_store *s, struct ssnap_tree *t,
		   const struct ssnap_key *key, struct ssnap_key *found,
		   void *val)
{
	struct bpath p;
	u32 level = t->depth - 1, i;
	u64 nr = t->root;
	struct nref r;
	int err;

	/* Down to the leaf that would hold key. */
	for (;;) {
		err = node_get(s, t, nr, level, &r);
		if (err)
			return err;
		if (!level)
			break;
		i = upper_bound(&r, key);
		i = i ? i - 1 : 0;
		p.nr[level] = nr;
		p.idx[level] = i;
		nr = child_at(&r, i);
		node_put(s, &r);
		level--;
	}
	i = lower_bound(&r, key);
	if (i >= r.nr) {
		/* Not in this leaf: the next subtree's first entry. */
		node_put(s, &r);
		for (level = 1; level < t->depth; level++) {
			err = node_get(s, t, p.nr[level], level, &r);
			if (err)
				return err;
			if (p.idx[level] + 1 < r.nr)
				break;
			node_put(s, &r);
		}
		if (level >= t->depth)
			return -ENODATA;
		nr = child_at(&r, p.idx[level] + 1);
		node_put(s, &r);
		while (level--) {
			err = node_get(s, t, nr, level, &r);
			if (err)
				return err;
			if (!level)
				break;
			nr = child_at(&r, 0);
			node_put(s, &r);
		}
		i = 0;
	}
	key_at(&r, i, found);
	if (val)
		memcpy(val, r.vals + (size_t)i * r.vsz, r.vsz);
	node_put(s, &r);
	if (ssnap_key_cmp(found, key) < 0) {
		ssnap_err("tree %u: separators out of order", t->id);
		return -EILSEQ;
	}
	return 0;
}

/*
 * Split full child `c` of parent `par` at parent index i.  When the key
 * about to go in lies beyond all of c's keys (`append`), only the last
 * entry moves, so keys arriving in order leave full nodes behind.
 */
static int split_child(struct ssnap_store *s, struct ssnap_tree *t,
		       struct nref *par, u32 i, struct nref *c, bool append)
{
	struct nref n;
	struct ssnap_key k;
	u32 m = append ? c->nr - 1 : c->nr / 2, move = c->nr - m;
	int err = node_new(s, t, c->level, &n);

	if (err)
		return err;
	memcpy(n.keys, &c->keys[m], move * sizeof(*n.keys));
	memcpy(n.vals, c->vals + (size_t)m * c->vsz, (size_t)move * c->vsz);
	node_set_nr(s, &n, move);
	node_set_nr(s, c, m);

	entries_shift(par, i + 1, true);
	key_at(&n, 0, &k);
	ssnap_key_put(&par->keys[i + 1], &k);
	child_set(par, i + 1, n.b->nr);
	node_set_nr(s, par, par->nr + 1);
	node_put(s, &n);
	return 0;
}

static int grow_root(struct ssnap_store *s, struct ssnap_tree *t)
{
	struct nref root, old;
	struct ssnap_key k;
	int err;

	if (t->depth >= SSNAP_MAX_DEPTH)
		return -EFBIG;
	err = node_get(s, t, t->root, t->depth - 1, &old);
	if (err)
		return err;
	err = node_new(s, t, t->depth, &root);
	if (err) {
		node_put(s, &old);
		return err;
	}
	key_at(&old, 0, &k);
	ssnap_key_put(&root.keys[0], &k);
	child_set(&root, 0, old.b->nr);
	node_set_nr(s, &root, 1);
	err = split_child(s, t, &root, 0, &old, false);
	node_put(s, &old);
	t->root = root.b->nr;
	t->depth++;
	node_put(s, &root);
	ssnap_root_dirty(s);
	return err;
}

int ssnap_btree_insert(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key, const void *val)
{
	u32 level = t->depth - 1, i;
	struct nref r, c;
	struct ssnap_key k;
	int err;

	err = node_get(s, t, t->root, level, &r);
	if (err)
		return err;
	if (r.nr == r.cap) {
		node_put(s, &r);
		err = grow_root(s, t);
		if (err)
			return err;
		level = t->depth - 1;
		err = node_get(s, t, t->root, level, &r);
		if (err)
			return err;
	}
	while (level) {
		i = upper_bound(&r, key);
		if (!i) {
			/* A new smallest key: it heads child 0 from now on. */
			ssnap_key_put(&r.keys[0], key);
			ssnap_bdirty(s, r.b);
		} else {
			i--;
		}
		err = node_get(s, t, child_at(&r, i), level - 1, &c);
		if (err)
			goto out;
		if (c.nr == c.cap) {
			key_at(&c, c.nr - 1, &k);
			err = split_child(s, t, &r, i, &c,
					  ssnap_key_cmp(key, &k) > 0);
			if (err) {
				node_put(s, &c);
				goto out;
			}
			key_at(&r, i + 1, &k);
			if (ssnap_key_cmp(key, &k) >= 0) {
				node_put(s, &c);
				err = node_get(s, t, child_at(&r, i + 1),
					       level - 1, &c);
				if (err)
					goto out;
			}
		}
		node_put(s, &r);
		r = c;
		level--;
	}
	i = lower_bound(&r, key);
	if (i < r.nr) {
		key_at(&r, i, &k);
		if (!ssnap_key_cmp(&k, key)) {
			err = -EEXIST;
			goto out;
		}
	}
	entries_shift(&r, i, true);
	ssnap_key_put(&r.keys[i], key);
	memcpy(r.vals + (size_t)i * r.vsz, val, r.vsz);
	node_set_nr(s, &r, r.nr + 1);
out:
	node_put(s, &r);
	return err;
}

/* Descend to the leaf holding exactly key; p records the way. */
static int find_exact(struct ssnap_store *s, struct ssnap_tree *t,
		      const struct ssnap_key *key, struct bpath *p,
		      struct nref *leaf)
{
	u32 level = t->depth - 1, i;
	u64 nr = t->root;
	struct ssnap_key k;
	struct nref r;
	int err;

	for (;;) {
		err = node_get(s, t, nr, level, &r);
		if (err)
			return err;
		i = upper_bound(&r, key);
		if (!i) {
			node_put(s, &r);
			return -ENODATA;
		}
		i--;
		p->nr[level] = nr;
		p->idx[level] = i;
		if (!level)
			break;
		nr = child_at(&r, i);
		node_put(s, &r);
		level--;
	}
	key_at(&r, i, &k);
	if (ssnap_key_cmp(&k, key)) {
		node_put(s, &r);
		return -ENODATA;
	}
	*leaf = r;
	return 0;
}

int ssnap_btree_update(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key, const void *val)
{
	struct bpath p;
	struct nref r;
	int err = find_exact(s, t, key, &p, &r);

	if (err)
		return err;
	memcpy(r.vals + (size_t)p.idx[0] * r.vsz, val, r.vsz);
	ssnap_bdirty(s, r.b);
	node_put(s, &r);
	return 0;
}

/* The smallest key of the node at `level` changed: tell its ancestors. */
static int fix_separators(struct ssnap_store *s, struct ssnap_tree *t,
			  struct bpath *p, u32 level,
			  const struct ssnap_key *k)
{
	struct nref r;
	int err;

	for (level++; level < t->depth; level++) {
		err = node_get(s, t, p->nr[level], level, &r);
		if (err)
			return err;
		ssnap_key_put(&r.keys[p->idx[level]], k);
		ssnap_bdirty(s, r.b);
		node_put(s, &r);
		if (p->idx[level])
			break;
	}
	return 0;
}

static int remove_at(struct ssnap_store *s, struct ssnap_tree *t,
		     struct bpath *p, u32 level);

/*
 * Node at `level` (path p) lost an entry and holds r->nr now: free it if
 * empty, merge it with a sibling if small, shrink the root if it has a
 * single child.  Consumes r.
 */
static int rebalance(struct ssnap_store *s, struct ssnap_tree *t,
		     struct bpath *p, u32 level, struct nref *r)
{
	struct nref par, sib, *left, *right;
	u32 i, si;
	int err;

	if (level == t->depth - 1) {
		u64 child = r->nr == 1 && level ? child_at(r, 0) : 0;

		node_put(s, r);
		if (level && !r->nr) {
			/* Cannot happen with the invariants; stay sane. */
			err = ssnap_free_meta(s, t->root);
			return err ? err : ssnap_btree_create(s, t);
		}
		if (!child)
			return 0;
		err = ssnap_free_meta(s, t->root);
		t->root = child;
		t->depth--;
		ssnap_root_dirty(s);
		return err;
	}
	if (!r->nr) {
		u64 nr = r->b->nr;

		node_put(s, r);
		err = ssnap_free_meta(s, nr);
		return err ? err : remove_at(s, t, p, level + 1);
	}
	if (r->nr >= r->cap / 4) {
		node_put(s, r);
		return 0;
	}
	err = node_get(s, t, p->nr[level + 1], level + 1, &par);
	if (err)
		goto out_r;
	i = p->idx[level + 1];
	if (par.nr < 2) {
		node_put(s, &par);
		node_put(s, r);
		return 0;
	}
	si = i ? i - 1 : i + 1;
	err = node_get(s, t, child_at(&par, si), level, &sib);
	node_put(s, &par);
	if (err)
		goto out_r;
	if (sib.nr + r->nr > r->cap) {
		node_put(s, &sib);
		node_put(s, r);
		return 0;
	}
	left = si < i ? &sib : r;
	right = si < i ? r : &sib;
	memcpy(&left->keys[left->nr], right->keys,
	       right->nr * sizeof(*right->keys));
	memcpy(left->vals + (size_t)left->nr * left->vsz, right->vals,
	       (size_t)right->nr * right->vsz);
	node_set_nr(s, left, left->nr + right->nr);
	err = ssnap_free_meta(s, right->b->nr);
	node_put(s, &sib);
	node_put(s, r);
	if (err)
		return err;
	/* Remove the right node's entry from the parent. */
	p->idx[level + 1] = ssnap_max(i, si);
	return remove_at(s, t, p, level + 1);
out_r:
	node_put(s, r);
	return err;
}

/* Remove entry p->idx[level] from node p->nr[level]. */
static int remove_at(struct ssnap_store *s, struct ssnap_tree *t,
		     struct bpath *p, u32 level)
{
	u32 i = p->idx[level];
	struct ssnap_key k;
	struct nref r;
	int err = node_get(s, t, p->nr[level], level, &r);

	if (err)
		return err;
	entries_shift(&r, i, false);
	node_set_nr(s, &r, r.nr - 1);
	if (!i && r.nr) {
		key_at(&r, 0, &k);
		err = fix_separators(s, t, p, level, &k);
		if (err) {
			node_put(s, &r);
			return err;
		}
	}
	return rebalance(s, t, p, level, &r);
}

int ssnap_btree_remove(struct ssnap_store *s, struct ssnap_tree *t,
		       const struct ssnap_key *key)
{
	struct bpath p;
	struct nref r;
	int err = find_exact(s, t, key, &p, &r);

	if (err)
		return err;
	node_put(s, &r);
	return remove_at(s, t, &p, 0);
}

/* ------------------------------------------------------------------ */
/* Structural walk for ssnap_check.                                    */

static int walk(struct ssnap_store *s, struct ssnap_tree *t,
		struct ssnap_btree_walker *w, u64 nr, u32 level,
		const struct ssnap_key *lo, const struct ssnap_key *hi)
{
	struct ssnap_key k, prev;
	struct nref r;
	u32 i;
	int err;

	if (w->block(w, nr, level))
		return 0;		/* seen already: reported, not followed */
	err = node_get(s, t, nr, level, &r);
	if (err) {
		w->problem(w, nr, "unreadable or damaged tree block");
		return err == -ENOMEM ? err : 0;
	}
	for (i = 0; i < r.nr; i++) {
		key_at(&r, i, &k);
		if ((i && ssnap_key_cmp(&prev, &k) >= 0) ||
		    (lo && ssnap_key_cmp(&k, lo) < 0) ||
		    (hi && ssnap_key_cmp(&k, hi) >= 0)) {
			w->problem(w, nr, "keys out of order");
			break;
		}
		if (!i && lo && level < t->depth - 1 &&
		    ssnap_key_cmp(&k, lo)) {
			w->problem(w, nr, "first key differs from its parent's");
			break;
		}
		prev = k;
	}
	if (i < r.nr) {
		node_put(s, &r);
		return 0;
	}
	for (i = 0; i < r.nr; i++) {
		struct ssnap_key next;
		u64 child;

		key_at(&r, i, &k);
		if (!level) {
			err = w->entry(w, &k, r.vals + (size_t)i * r.vsz);
			if (err)
				break;
			continue;
		}
		child = child_at(&r, i);
		if (i + 1 < r.nr)
			key_at(&r, i + 1, &next);
		err = walk(s, t, w, child, level - 1, &k,
			   i + 1 < r.nr ? &next : hi);
		if (err)
			break;
		ssnap_cond_resched();
	}
	node_put(s, &r);
	return err;
}

int ssnap_btree_walk(struct ssnap_store *s, struct ssnap_tree *t,
		     struct ssnap_btree_walker *w)
{
	return walk(s, t, w, t->root, t->depth - 1, NULL, NULL);
}
