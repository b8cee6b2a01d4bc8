/* Quota counting's hot step, as one atomic operation on a word of the memory-mapped counters
 * file (see _LocalState in _state.py, which lays out the words; the width of a count, COUNT_BITS,
 * is defined here). Optional: without a C compiler the package installs without it, and
 * _state.py counts under a file lock instead.
 *
 * add(words, index, stamp, n) -> int
 *   words: a writable buffer of native 64-bit words (the mapped counters file)
 *   index: the key's word
 *   stamp: the current UTC day and quota reset, shifted above COUNT_BITS; a word with another
 *          stamp counts 0 (the day or the reset changed)
 *   n: what to add (0 reads)
 * Returns the key's count after the addition. The addition is a compare-and-swap on memory
 * every worker process maps, so concurrent requests in any threads and processes each get a
 * count of their own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define COUNT_BITS 36 /* a word: stamp << COUNT_BITS | count */
#define COUNT_MASK ((UINT64_C(1) << COUNT_BITS) - 1)

static PyObject *
tally_add(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "add(words, index, stamp, n) takes 4 arguments");
        return NULL;
    }
    Py_ssize_t index = PyLong_AsSsize_t(args[1]);
    uint64_t stamp = PyLong_AsUnsignedLongLong(args[2]);
    long long n = PyLong_AsLongLong(args[3]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (n < 0 || (stamp & COUNT_MASK) != 0) {
        PyErr_SetString(PyExc_ValueError, "add(): n must be 0 or more, and stamp have no count bits");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    if (index < 0 || index >= view.len / 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_IndexError, "add(): the index lies outside the words");
        return NULL;
    }
    uint64_t *word = (uint64_t *)view.buf + index;
    uint64_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    uint64_t new;
    do {
        uint64_t count = (old & ~COUNT_MASK) == stamp ? (old & COUNT_MASK) : 0;
        if (n == 0 && (old & ~COUNT_MASK) == stamp) {
            new = old;
            break;
        }
        count += (uint64_t)n;
        if (count > COUNT_MASK) {
            count = COUNT_MASK;
        }
        new = stamp | count;
    } while (!__atomic_compare_exchange_n(word, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(new & COUNT_MASK);
}

static PyMethodDef tally_methods[] = {
    {"add", (PyCFunction)(void (*)(void))tally_add, METH_FASTCALL,
     "add(words, index, stamp, n) -> the key's count after adding n, atomically"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef tally_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rotor_leads.mock_server.engine.state._tally",
    .m_doc = "Quota counting's hot step (see _tally.c).",
    .m_size = -1,
    .m_methods = tally_methods,
};

PyMODINIT_FUNC
PyInit__tally(void)
{
    PyObject *module = PyModule_Create(&tally_module);
    if (module != NULL && PyModule_AddIntConstant(module, "COUNT_BITS", COUNT_BITS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
