/*
 * test_dejavu_pipeline.c — the learning pipeline shared by the live DejaVu
 * and the simulation: request mixes and the mix-file
 * loader, signatures, feature selection / k-means++ / silhouette / the
 * classifier's "unknown", the SQLite memo table (including kill -9 in the
 * middle of writes), the interference index, the tuner's search.
 */
#include "vl_test.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>

#include "dejavu/learn/interference.h"
#include "dejavu/learn/classid.h"
#include "dejavu/learn/learn.h"
#include "dejavu/learn/memo.h"
#include "dejavu/learn/mix.h"
#include "dejavu/learn/signature.h"
#include "dejavu/learn/tuner.h"

/* ---- mixes ---- */
static void test_builtin_mixes(void **state)
{
	(void)state;
	mix_set *s = mix_set_create();
	assert_non_null(s);
	const char *names[] = { "browse", "search", "write-heavy", "mixed" };
	for (size_t i = 0; i < 4; i++) {
		const mix *m = mix_set_find(s, names[i]);
		assert_non_null(m);
		double w = 0;
		for (size_t j = 0; j < m->ntypes; j++)
			w += m->types[j].weight;
		assert_near(w, 1.0, 1e-12);
	}
	/* browse costs about 200 us of CPU per request (live service and simulation). */
	assert_near(mix_mean_cpu_us(mix_set_find(s, "browse")), 200, 1e-9);
	/* The classes differ: search is CPU/memory heavy, write-heavy does I/O. */
	assert_true(mix_mean_cpu_us(mix_set_find(s, "search")) > 5 * 200);
	assert_true(mix_mean_mem_kb(mix_set_find(s, "search")) >
		    10 * mix_mean_mem_kb(mix_set_find(s, "browse")));
	assert_true(mix_mean_io_kb(mix_set_find(s, "write-heavy")) > 30);
	assert_near(mix_mean_io_kb(mix_set_find(s, "browse")), 0, 1e-12);
	/* Service time = cpu + memory + I/O cost. */
	const mix_type *post = &mix_set_find(s, "write-heavy")->types[0];
	assert_string_equal(post->name, "post");
	assert_near(mix_type_service_s(post), (300 + 64 * 0.5 + 64 * 2.0) * 1e-6, 1e-12);
	/* mix_pick follows the weights. */
	rng r;
	rng_seed(&r, 3);
	size_t page = 0;
	for (int i = 0; i < 100000; i++)
		page += !strcmp(mix_pick(mix_set_find(s, "browse"), &r)->name, "page");
	assert_near(page / 100000.0, 0.8, 0.01);
	mix_set_destroy(s);
}

static void test_mix_file(void **state)
{
	(void)state;
	mix_set *s = mix_set_create();
	vl_errbuf eb;
	const char *ok = "# a comment\n"
			 "mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\n"
			 "api,get,3,100,8,0,200,1000\n"
			 "\n"
			 "api,put,1,500,16,32,4000,100\n"
			 "browse,page,1,50,1,0,100,100\n";
	assert_int_equal(mix_set_load_text(s, ok, "m.csv", &eb), 0);
	const mix *api = mix_set_find(s, "api");
	assert_non_null(api);
	assert_int_equal(api->ntypes, 2);
	assert_near(api->types[0].weight, 0.75, 1e-12);
	assert_near(mix_mean_cpu_us(api), 0.75 * 100 + 0.25 * 500, 1e-9);
	/* A file's mix replaces the built-in of that name entirely. */
	assert_int_equal(mix_set_find(s, "browse")->ntypes, 1);
	assert_int_equal(mix_set_count(s), 5);
	mix_set_destroy(s);
}

static void expect_mix_error(const char *text, const char *want)
{
	mix_set *s = mix_set_create();
	vl_errbuf eb = { { 0 } };
	assert_int_not_equal(mix_set_load_text(s, text, "m.csv", &eb), 0);
	if (!strstr(eb.msg, want))
		fail_msg("message '%s' lacks '%s'", eb.msg, want);
	/* Nothing half-loaded. */
	assert_int_equal(mix_set_count(s), 4);
	assert_null(mix_set_find(s, "api"));
	mix_set_destroy(s);
}

static void test_mix_file_errors(void **state)
{
	(void)state;
	const char *h = "mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\n";
	char buf[512];
	expect_mix_error("mix,type\n", "m.csv:1: expected 8 comma-separated fields");
	expect_mix_error("a,b,c,d,e,f,g,h\n", "m.csv:1: expected the header");
	snprintf(buf, sizeof(buf), "%sapi,get,1,100,8,0,200,1000\napi,put,1,x,8,0,1,1\n", h);
	expect_mix_error(buf, "m.csv:3: cpu_us:");
	snprintf(buf, sizeof(buf), "%sapi,get,0,100,8,0,200,1000\n", h);
	expect_mix_error(buf, "m.csv:2: weight must be > 0");
	snprintf(buf, sizeof(buf), "%sapi,get,1,-5,8,0,200,1000\n", h);
	expect_mix_error(buf, "m.csv:2: cpu_us -5 out of range");
	snprintf(buf, sizeof(buf), "%sa pi,get,1,5,8,0,200,1000\n", h);
	expect_mix_error(buf, "m.csv:2: bad mix name");
	snprintf(buf, sizeof(buf), "%sapi,get,1,5,8,0,200,1000\napi,get,1,5,8,0,200,1000\n", h);
	expect_mix_error(buf, "m.csv:3: type 'get' listed twice");
	expect_mix_error("", "empty mix file");
	mix_set *s = mix_set_create();
	vl_errbuf eb;
	assert_int_equal(mix_set_load(s, "/nonexistent/m.csv", &eb), VL_ENOENT);
	assert_non_null(strstr(eb.msg, "/nonexistent/m.csv: cannot open"));
	mix_set_destroy(s);
}

static void test_mix_file_over_limit(void **state)
{
	(void)state;
	/* a valid mix file, then sparse zeros to one byte over the limit */
	char *path = vl_sparse_file("mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\n"
				    "api,get,1,100,8,0,200,1000\n",
				    MIX_FILE_MAX_BYTES + 1ull);
	mix_set *s = mix_set_create();
	assert_non_null(s);
	vl_errbuf eb;
	assert_int_equal(mix_set_load(s, path, &eb), VL_ERANGE);
	vl_assert_over_limit(eb.msg, path, MIX_FILE_MAX_BYTES + 1ull, MIX_FILE_MAX_BYTES);
	assert_null(mix_set_find(s, "api")); /* nothing loaded */
	mix_set_destroy(s);
	unlink(path);
	free(path);
}

/* ---- signatures ---- */
static void test_signature(void **state)
{
	(void)state;
	sig a, b;
	sig_init(&a, 0, 60);
	assert_int_equal(sig_set(&a, "cpu", 1), 0);
	assert_int_equal(sig_set(&a, "io", 2), 0);
	assert_int_equal(sig_set(&a, "cpu", 3), 0); /* replaces */
	assert_int_equal(a.n, 2);
	double v;
	assert_int_equal(sig_get(&a, "cpu", &v), 0);
	assert_near(v, 3, 0);
	assert_int_equal(sig_get(&a, "nope", &v), VL_ENOENT);
	assert_int_equal(sig_set(&a, "bad name", 1), VL_EINVAL);
	assert_int_equal(sig_set(&a, "", 1), VL_EINVAL);
	assert_int_equal(sig_set(&a, "x", NAN), VL_EINVAL);
	sig_init(&b, 0, 60);
	sig_set(&b, "io", 20);
	sig_set(&b, "cpu", 30);
	double out[2];
	vl_errbuf eb;
	assert_int_equal(sig_align(&a, &b, out, &eb), 0);
	assert_near(out[0], 30, 0);
	assert_near(out[1], 20, 0);
	sig_init(&b, 0, 60);
	sig_set(&b, "cpu", 1);
	assert_int_equal(sig_align(&a, &b, out, &eb), VL_ENOENT);
	assert_non_null(strstr(eb.msg, "'io'"));
	for (int i = 0; i < SIG_MAX_METRICS - 2; i++) {
		char n[16];
		snprintf(n, sizeof(n), "m%d", i);
		assert_int_equal(sig_set(&a, n, i), 0);
	}
	assert_int_equal(sig_set(&a, "onemore", 1), VL_ERANGE);
}

/* ---- learning ---- */
/* Three workload kinds in 2 informative metrics, plus a constant one, a
 * redundant copy and a pure-noise one. */
static size_t make_blobs(sig *out, size_t per, uint64_t seed)
{
	static const double C[3][2] = { { 100, 5 }, { 400, 5 }, { 250, 60 } };
	rng r;
	rng_seed(&r, seed);
	size_t n = 0;
	for (size_t c = 0; c < 3; c++)
		for (size_t i = 0; i < per; i++) {
			sig *s = &out[n++];
			sig_init(s, 0, 60);
			double cpu = C[c][0] * (1 + rng_normal(&r, 0, 0.03));
			sig_set(s, "cpu", cpu);
			sig_set(s, "io", C[c][1] * (1 + rng_normal(&r, 0, 0.03)));
			sig_set(s, "quota", 1.0);
			sig_set(s, "cpu_ms", cpu / 1000);
			sig_set(s, "noise", 50 + rng_normal(&r, 0, 1));
		}
	return n;
}

/* A model trained on three blobs of 100 (make_blobs seed 5) with at most 2
 * features, the defaults otherwise (into *p); the training set in *s
 * (malloc'd, caller frees). */
static learn_model *train_blobs(sig **s, learn_params *p)
{
	*s = malloc(300 * sizeof(sig));
	assert_non_null(*s);
	size_t n = make_blobs(*s, 100, 5);
	learn_params_default(p);
	p->max_features = 2;
	vl_errbuf eb;
	learn_model *m = learn_train(*s, n, p, &eb);
	assert_non_null(m);
	return m;
}

static void test_learn_selects_and_clusters(void **state)
{
	(void)state;
	sig *s;
	learn_params p;
	learn_model *m = train_blobs(&s, &p);
	/* k = 3 chosen by silhouette, and the blobs are recovered exactly. */
	assert_int_equal(learn_nclasses(m), 3);
	assert_true(learn_silhouette(m) > 0.8);
	for (size_t c = 0; c < 3; c++)
		for (size_t i = 1; i < 100; i++)
			assert_int_equal(learn_train_label(m, c * 100 + i),
					 learn_train_label(m, c * 100));
	/* Constant and redundant metrics dropped; ranking keeps the separating
	 * ones, not the noise. */
	int dropped_quota = 0, dropped_ms = 0;
	for (size_t i = 0; i < learn_ndropped(m); i++) {
		const char *why, *name = learn_dropped(m, i, &why);
		dropped_quota |= !strcmp(name, "quota") && !strcmp(why, "constant");
		dropped_ms |= !strcmp(name, "cpu_ms") && !strcmp(why, "redundant");
	}
	assert_true(dropped_quota);
	assert_true(dropped_ms);
	assert_int_equal(learn_nfeatures(m), 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_not_equal(learn_feature(m, i), "noise");
	assert_true(learn_feature_score(m, 1) > 10);
	/* Known workloads classify to their blob; a new kind is unknown. */
	sig t[30];
	make_blobs(t, 10, 99);
	for (size_t i = 0; i < 30; i++)
		assert_int_equal(learn_classify(m, &t[i], NULL),
				 learn_train_label(m, (i / 10) * 100));
	sig u;
	sig_init(&u, 0, 60);
	sig_set(&u, "cpu", 1500);
	sig_set(&u, "io", 5);
	sig_set(&u, "quota", 1);
	sig_set(&u, "cpu_ms", 1.5);
	sig_set(&u, "noise", 50);
	double d;
	assert_int_equal(learn_classify(m, &u, &d), LEARN_UNKNOWN);
	assert_true(d > p.unknown_factor);
	/* After tuning it, the new kind becomes a class of its own. */
	sig us[5];
	for (int i = 0; i < 5; i++) {
		us[i] = u;
		sig_set(&us[i], "cpu", 1500 + 10 * i);
	}
	int c = learn_add_class(m, us, 5);
	assert_int_equal(c, 3);
	assert_int_equal(learn_classify(m, &u, NULL), 3);
	assert_int_equal(learn_ntrained(m), 3);
	/* A signature missing a selected metric cannot be classified. */
	sig_init(&u, 0, 60);
	sig_set(&u, "io", 5);
	assert_int_equal(learn_classify(m, &u, NULL), LEARN_UNKNOWN);
	learn_destroy(m);
	free(s);
}

/* Novelty on every metric (learn.h step 6): a window that matches a class
 * on the selected features but not on a metric selection left out — a
 * varying one ranked out, a constant one, a redundant one — is unknown;
 * once added, that workload's next windows fall in its class (added once).
 * A training set of one workload is one class. */
static void test_learn_novelty_on_unselected_metric(void **state)
{
	(void)state;
	sig *s;
	learn_params p;
	learn_model *m = train_blobs(&s, &p);
	for (size_t i = 0; i < learn_nfeatures(m); i++)
		assert_true(!strcmp(learn_feature(m, i), "cpu") ||
			    !strcmp(learn_feature(m, i), "io"));
	int c0 = learn_train_label(m, 0);
	sig t[30];
	make_blobs(t, 10, 77); /* t[0..9]: blob 0 */
	assert_int_equal(learn_classify(m, &t[0], NULL), c0);
	const struct {
		const char *metric;
		double v;
	} cases[] = { { "noise", 80 }, { "quota", 2 }, { "cpu_ms", 0.3 } };
	for (size_t k = 0; k < 3; k++) {
		sig u = t[0];
		sig_set(&u, cases[k].metric, cases[k].v);
		double d, z;
		assert_int_equal(learn_classify(m, &u, &d), LEARN_UNKNOWN);
		assert_true(d <= p.unknown_factor); /* the selected features agree */
		assert_string_equal(learn_novel_metric(m, &u, &z), cases[k].metric);
		assert_true(z > p.novel_z);
	}
	/* two windows of one workload agree; a window straddling a change
	 * (half blob 0, half blob 1) agrees with neither side */
	assert_true(learn_same_workload(m, &t[0], &t[1]));
	sig mid = t[0];
	for (size_t j = 0; j < mid.n; j++)
		mid.v[j] = (t[0].v[j] + t[10].v[sig_find(&t[10], mid.name[j])]) / 2;
	assert_false(learn_same_workload(m, &mid, &t[1]));
	assert_false(learn_same_workload(m, &mid, &t[11]));
	/* added from two windows, the third and later ones belong to it */
	sig add[2] = { t[0], t[1] }, more[8];
	sig_set(&add[0], "noise", 80);
	sig_set(&add[1], "noise", 80.5);
	int c = learn_add_class(m, add, 2);
	assert_int_equal(c, 3);
	for (size_t i = 0; i < 8; i++) {
		more[i] = t[2 + i];
		double v;
		sig_get(&t[2 + i], "noise", &v);
		sig_set(&more[i], "noise", v + 30); /* its own spread, around 80 */
		assert_int_equal(learn_classify(m, &more[i], NULL), c);
	}
	assert_int_equal(learn_classify(m, &t[5], NULL), c0); /* blob 0 stays blob 0 */
	learn_destroy(m);
	/* one workload only: one class, not a split of its noise */
	vl_errbuf eb;
	m = learn_train(s, 100, &p, &eb);
	assert_non_null(m);
	assert_int_equal(learn_nclasses(m), 1);
	assert_int_equal(learn_classify(m, &t[3], NULL), 0);
	learn_destroy(m);
	free(s);
}

static void test_learn_errors_and_blocks(void **state)
{
	(void)state;
	sig s[40];
	make_blobs(s, 10, 1);
	learn_params p;
	learn_params_default(&p);
	vl_errbuf eb;
	assert_null(learn_train(s, 10, &p, &eb)); /* fewer than 2 * k_max */
	assert_non_null(strstr(eb.msg, "need at least 16"));
	p.k_max = 1; /* k_max >= 2 (k_min 1 is allowed: one class) */
	assert_null(learn_train(s, 30, &p, &eb));
	learn_params_default(&p);
	sig_set(&s[3], "extra", 1);
	assert_null(learn_train(s, 30, &p, &eb));
	assert_non_null(strstr(eb.msg, "signature 3"));
	/* Building blocks: silhouette of a perfect split is near 1, of a
	 * random split near 0; Fisher ratio is large only for separated data. */
	double X[8] = { 0, 0.1, 0.2, 0.1, 10, 10.1, 10.2, 10.1 };
	int good[8] = { 0, 0, 0, 0, 1, 1, 1, 1 }, bad[8] = { 0, 1, 0, 1, 0, 1, 0, 1 };
	assert_true(learn_silhouette_score(X, 8, 1, good, 2) > 0.95);
	assert_true(learn_silhouette_score(X, 8, 1, bad, 2) < 0.1);
	assert_true(learn_fisher(X, 8, 1, 0, good, 2) > 1000);
	assert_true(learn_fisher(X, 8, 1, 0, bad, 2) < 0.1);
	rng r;
	rng_seed(&r, 1);
	int lab[8];
	double C[2];
	double in = learn_kmeans(X, 8, 1, 2, &r, lab, C);
	assert_true(in >= 0 && in < 0.1);
	for (int i = 1; i < 4; i++)
		assert_int_equal(lab[i], lab[0]);
	assert_int_not_equal(lab[4], lab[0]);
	assert_true(learn_kmeans(X, 8, 1, 9, &r, lab, C) < 0);
}

/* ---- memo table ---- */
static void tmpname(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/vl-memo-%s-%d.db", tag, (int)getpid());
	memo_remove(buf);
}

static void test_memo_basic(void **state)
{
	(void)state;
	char path[256];
	tmpname(path, sizeof(path), "basic");
	vl_errbuf eb;
	memo *m = memo_open(path, &eb);
	assert_non_null(m);
	memo_key k;
	memo_key_set(&k, "svc", 2, 1);
	memo_alloc a = { 7, 0.5, 256, 1000, 0.008 }, b;
	assert_int_equal(memo_get(m, &k, &b, 1), VL_ENOENT);
	assert_int_equal(memo_put(m, &k, &a, 10), 0);
	assert_int_equal(memo_get(m, &k, &b, 20), 0);
	assert_int_equal(memo_get(m, &k, &b, 30), 0);
	assert_int_equal(b.instances, 7);
	assert_near(b.cpu_quota, 0.5, 0);
	assert_near(b.tuned_rate_rps, 1000, 0);
	memo_row row;
	assert_int_equal(memo_peek(m, &k, &row), 0);
	assert_int_equal(row.hits, 2);
	assert_near(row.created, 10, 0);
	assert_near(row.last_used, 30, 0);
	/* The interference bucket is part of the key. */
	memo_key k0;
	memo_key_set(&k0, "svc", 2, 0);
	assert_int_equal(memo_get(m, &k0, &b, 1), VL_ENOENT);
	assert_int_equal(memo_put(m, &k0, &a, 40), 0);
	assert_int_equal(memo_count(m), 2);
	memo_close(m);
	/* Reopened: still there. */
	m = memo_open(path, &eb);
	assert_non_null(m);
	assert_int_equal(memo_count(m), 2);
	assert_int_equal(memo_peek(m, &k, &row), 0);
	assert_int_equal(row.hits, 2);
	memo_close(m);
	assert_null(memo_open("/nonexistent/dir/memo.db", &eb));
	assert_non_null(strstr(eb.msg, "memo"));
	memo_remove(path);
}

/* A child writes rows as fast as it can and acknowledges each committed
 * put on a pipe; the parent kills it with SIGKILL mid-stream; every
 * acknowledged row must be there and the database must be intact. */
/* Which blob (make_blobs: cpu 100, 400 or 250) class c of m is. */
static int blob_of(const learn_model *m, size_t c)
{
	sig cent;
	double cpu;
	assert_int_equal(learn_class_centroid(m, c, &cent), 0);
	assert_int_equal(sig_get(&cent, "cpu", &cpu), 0);
	return cpu < 175 ? 0 : cpu < 325 ? 2 : 1;
}

/* Stable memo keys (classid.h): a second run, whose k-means numbers the
 * same workloads differently, reopens the first run's memo file and gets
 * hits — each workload's own allocation — without tuning. */
static void test_memo_restart_hits(void **state)
{
	(void)state;
	char path[256];
	tmpname(path, sizeof(path), "restart");
	sig *s = malloc(300 * sizeof(sig));
	learn_params p;
	learn_params_default(&p);
	p.max_features = 2;
	vl_errbuf eb;
	/* run 1: learn, bind ids, memoize 10 / 20 / 30 instances per blob */
	make_blobs(s, 100, 5);
	learn_model *m1 = learn_train(s, 300, &p, &eb);
	memo *mm = memo_open(path, &eb);
	assert_non_null(m1);
	assert_non_null(mm);
	int ids1[3];
	for (size_t c = 0; c < 3; c++) {
		assert_int_equal(classid_bind(mm, "svc", m1, c, &ids1[c]), 0);
		memo_key k;
		memo_key_set(&k, "svc", ids1[c], 0);
		memo_alloc a = { 10u * (unsigned)(blob_of(m1, c) + 1), 0, 0, 100, 0.005 };
		assert_int_equal(memo_put(mm, &k, &a, 1), 0);
	}
	memo_close(mm);
	/* run 2: other signatures, another k-means seed -> other indices */
	make_blobs(s, 100, 6);
	int permuted = 0;
	learn_model *m2 = NULL;
	for (uint64_t seed = 2; seed < 40 && !permuted; seed++) {
		learn_destroy(m2);
		p.seed = seed;
		m2 = learn_train(s, 300, &p, &eb);
		assert_non_null(m2);
		for (size_t c = 0; c < 3; c++)
			permuted |= blob_of(m2, c) != blob_of(m1, c);
	}
	assert_true(permuted); /* otherwise the test would prove nothing */
	mm = memo_open(path, &eb);
	assert_non_null(mm);
	for (size_t c = 0; c < 3; c++) {
		int id;
		assert_int_equal(classid_bind(mm, "svc", m2, c, &id), 0);
		memo_key k;
		memo_key_set(&k, "svc", id, 0);
		memo_alloc a;
		assert_int_equal(memo_get(mm, &k, &a, 2), 0); /* a hit */
		assert_int_equal(a.instances, 10u * (unsigned)(blob_of(m2, c) + 1));
	}
	/* a workload no run has seen gets a new id */
	sig u = s[0];
	sig_set(&u, "cpu", 1500);
	sig_set(&u, "cpu_ms", 1.5);
	sig us[3] = { u, u, u };
	int c = learn_add_class(m2, us, 3), id;
	assert_int_equal(classid_bind(mm, "svc", m2, (size_t)c, &id), 0);
	assert_int_equal(id, 3);
	memo_close(mm);
	learn_destroy(m1);
	learn_destroy(m2);
	free(s);
	memo_remove(path);
}

static void test_memo_survives_kill9(void **state)
{
	(void)state;
	char path[256];
	tmpname(path, sizeof(path), "kill");
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		vl_errbuf eb;
		memo *m = memo_open(path, &eb);
		if (!m)
			_exit(3);
		for (int i = 0;; i++) {
			memo_key k;
			memo_key_set(&k, "svc", i, i % 5);
			memo_alloc a = { (unsigned)i + 1, 1, 0, 100.0 * i, 0.001 };
			if (memo_put(m, &k, &a, i))
				_exit(4);
			if (write(fd[1], &i, sizeof(i)) != sizeof(i))
				_exit(5);
		}
	}
	close(fd[1]);
	int last = -1, v;
	while (last < 150 && read(fd[0], &v, sizeof(v)) == sizeof(v))
		last = v;
	kill(pid, SIGKILL);
	while (read(fd[0], &v, sizeof(v)) == sizeof(v)) /* acks sent before death */
		last = v;
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFSIGNALED(st));
	assert_true(last >= 150);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
	vl_errbuf eb;
	memo *m = memo_open(path, &eb);
	assert_non_null(m);
	for (int i = 0; i <= last; i++) {
		memo_key k;
		memo_row row;
		memo_key_set(&k, "svc", i, i % 5);
		if (memo_peek(m, &k, &row))
			fail_msg("committed row %d (of %d) lost after kill -9", i, last);
		assert_int_equal(row.alloc.instances, (unsigned)i + 1);
	}
	assert_true(memo_count(m) >= last + 1);
	memo_close(m);
	tmpname(path, sizeof(path), "kill");
}

/* ---- interference ---- */
static void test_interference(void **state)
{
	(void)state;
	assert_near(interference_index(65, 100), 0.65, 1e-12);
	assert_near(interference_index(1, 0), 1.0, 0);
	assert_near(interference_index(NAN, 1), 1.0, 0);
	assert_near(interference_index(5, 1), 2.0, 0);
	assert_int_equal(interference_bucket(1.0), 0);
	assert_int_equal(interference_bucket(0.90), 0);
	assert_int_equal(interference_bucket(0.89), 1);
	assert_int_equal(interference_bucket(0.65), 2);
	assert_int_equal(interference_bucket(0.5), 3);
	assert_int_equal(interference_bucket(0.1), 4);
	for (int b = 0; b < INTERFERENCE_BUCKETS; b++)
		assert_int_equal(interference_bucket(interference_bucket_mid(b)), b);
}

/* ---- tuner ---- */
typedef struct fake {
	double need; /* capacity needed; p95 = 1 / (capacity - need) */
	unsigned calls;
} fake;

static int fake_measure(void *ctx, const memo_alloc *a, double *p95)
{
	fake *f = ctx;
	double capa = tuner_cost(a);
	f->calls++;
	*p95 = capa > f->need ? 1.0 / (capa - f->need) : INFINITY;
	return 0;
}

static void test_tuner(void **state)
{
	(void)state;
	fake f = { 37.2, 0 };
	tuner_space sp = { 1, 200, 0, 0, 0, 0 };
	tuner_result r;
	vl_errbuf eb;
	/* p95 <= 0.5 needs capacity >= need + 2 = 39.2 -> 40 instances. */
	assert_int_equal(tuner_search(&sp, 0.5, 1234, fake_measure, &f, &r, &eb), 0);
	assert_true(r.met);
	assert_int_equal(r.best.instances, 40);
	assert_near(r.best.tuned_rate_rps, 1234, 0);
	assert_int_equal(r.probes, f.calls);
	assert_true(r.probes <= 10); /* binary search: ~log2(200) + 1 */
	/* With a CPU-quota ladder the cheapest (instances x quota) wins. */
	f = (fake){ 2.6, 0 };
	tuner_space sq = { 1, 4, 0.25, 1.0, 0.25, 512 };
	assert_int_equal(tuner_search(&sq, 1.0, 10, fake_measure, &f, &r, &eb), 0);
	assert_true(r.met);
	/* costs on the ladder: 3.0 (3x1.0, 4x0.75) misses, 4.0 is the cheapest >= 3.6 */
	assert_near(tuner_cost(&r.best), 4.0, 1e-9);
	assert_near(r.best.mem_mb, 512, 0);
	/* Nothing meets it: the largest, met = 0. */
	f = (fake){ 500, 0 };
	assert_int_equal(tuner_search(&sp, 0.5, 1, fake_measure, &f, &r, &eb), 0);
	assert_false(r.met);
	assert_int_equal(r.best.instances, 200);
	assert_int_equal(r.probes, 1);
	tuner_space bad = { 0, 5, 0, 0, 0, 0 };
	assert_int_equal(tuner_search(&bad, 0.5, 1, fake_measure, &f, &r, &eb), VL_EINVAL);
	assert_int_equal(tuner_search(&sp, 0, 1, fake_measure, &f, &r, &eb), VL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_mixes),
		cmocka_unit_test(test_mix_file),
		cmocka_unit_test(test_mix_file_errors),
		cmocka_unit_test(test_mix_file_over_limit),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_learn_selects_and_clusters),
		cmocka_unit_test(test_learn_novelty_on_unselected_metric),
		cmocka_unit_test(test_learn_errors_and_blocks),
		cmocka_unit_test(test_memo_restart_hits),
		cmocka_unit_test(test_memo_basic),
		cmocka_unit_test(test_memo_survives_kill9),
		cmocka_unit_test(test_interference),
		cmocka_unit_test(test_tuner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
