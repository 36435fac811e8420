#include "password.h"

#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int password_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

const char *password_policy(const char *pw, const char *email)
{
    size_t n = strlen(pw);
    if (n < PASSWORD_MIN_LEN)
        return "the password must have at least 10 characters (a few words together are easy "
               "to remember and hard to guess)";
    if (n > PASSWORD_MAX_LEN)
        return "the password must have at most 256 characters";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return "the password must not contain control characters";
    if (email && strcasecmp(pw, email) == 0)
        return "the password must not be your email address";
    /* One character repeated ("aaaaaaaaaa") is no password at all. */
    size_t same = 1;
    for (size_t i = 1; i < n; i++)
        same += pw[i] == pw[0];
    if (same == n)
        return "the password must not be one character repeated";
    return NULL;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_LEN])
{
    _Static_assert(PASSWORD_HASH_LEN == crypto_pwhash_STRBYTES, "hash string size");
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int password_verify(const char *stored, const char *pw)
{
    if (!stored || strncmp(stored, "$argon2id$", 10) != 0)
        return 0;
    return crypto_pwhash_str_verify(stored, pw, strlen(pw)) == 0;
}

/* ------------------------------------------------------------ the worker */

struct pw_job {
    struct pw_job *next;
    int verify;
    char *pw;
    char *stored;           /* verify: the stored hash, or NULL for the dummy */
    char hash[PASSWORD_HASH_LEN];
    int ok;
    password_cb cb;
    void *arg;
};

struct password_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pw_job *todo, *todo_tail, *done;
    int stop;
    int pipefd[2];          /* the thread writes a byte when a job is done */
    struct event *ev;
    char dummy[PASSWORD_HASH_LEN];
};

static void job_free(struct pw_job *j)
{
    if (j->pw) {
        sodium_memzero(j->pw, strlen(j->pw));
        free(j->pw);
    }
    free(j->stored);
    sodium_memzero(j->hash, sizeof j->hash);
    free(j);
}

static void *worker_main(void *arg)
{
    struct password_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        struct pw_job *j = w->todo;
        w->todo = j->next;
        if (!w->todo)
            w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        if (j->verify)
            j->ok = password_verify(j->stored ? j->stored : w->dummy, j->pw) && j->stored;
        else
            j->ok = password_hash(j->pw, j->hash) == 0 ? 1 : -1;
        pthread_mutex_lock(&w->mu);
        j->next = w->done;
        w->done = j;
        ssize_t ignored = write(w->pipefd[1], "x", 1);
        (void)ignored;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* On the loop: run the callbacks of finished jobs. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct password_worker *w = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&w->mu);
    struct pw_job *list = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    while (list) {
        struct pw_job *j = list;
        list = j->next;
        j->cb(j->ok, j->verify || j->ok != 1 ? NULL : j->hash, j->arg);
        job_free(j);
    }
}

struct password_worker *password_worker_new(struct event_base *base)
{
    if (password_init() != 0)
        return NULL;
    struct password_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pipefd[0] = w->pipefd[1] = -1;
    /* The dummy that unknown accounts are checked against: a real hash of
     * a random password, so the work is the same. */
    unsigned char rnd[24];
    char pw[2 * sizeof rnd + 1];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    int rc = password_hash(pw, w->dummy);
    sodium_memzero(pw, sizeof pw);
    if (rc != 0 || pipe2(w->pipefd, O_CLOEXEC | O_NONBLOCK) != 0)
        goto fail;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST, on_done, w);
    if (!w->ev || event_add(w->ev, NULL) != 0 ||
        pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        if (w->ev)
            event_free(w->ev);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        goto fail;
    }
    return w;
fail:
    if (w->pipefd[0] >= 0) {
        close(w->pipefd[0]);
        close(w->pipefd[1]);
    }
    free(w);
    return NULL;
}

void password_worker_free(struct password_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    event_free(w->ev);
    struct pw_job *lists[2] = {w->todo, w->done};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            struct pw_job *j = lists[i];
            lists[i] = j->next;
            job_free(j);
        }
    close(w->pipefd[0]);
    close(w->pipefd[1]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    sodium_memzero(w->dummy, sizeof w->dummy);
    free(w);
}

static int submit_job(struct password_worker *w, int verify, const char *stored, const char *pw,
                      password_cb cb, void *arg)
{
    struct pw_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->verify = verify;
    j->pw = strdup(pw);
    j->stored = stored ? strdup(stored) : NULL;
    if (!j->pw || (stored && !j->stored)) {
        job_free(j);
        return -1;
    }
    j->cb = cb;
    j->arg = arg;
    pthread_mutex_lock(&w->mu);
    if (w->todo_tail)
        w->todo_tail->next = j;
    else
        w->todo = j;
    w->todo_tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int password_worker_hash(struct password_worker *w, const char *pw, password_cb cb, void *arg)
{
    return submit_job(w, 0, NULL, pw, cb, arg);
}

int password_worker_verify(struct password_worker *w, const char *stored, const char *pw,
                           password_cb cb, void *arg)
{
    return submit_job(w, 1, stored, pw, cb, arg);
}
