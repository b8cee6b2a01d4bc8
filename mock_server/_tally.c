/* The one step of quota counting that every request of a limited key takes (see _Counters in
 * _state.py, which lays out the words, with the width of a count it reads from COUNT_BITS
 * here): add to this process's word of a key's row, then sum the row. In Python it was most
 * of what a limited key cost over an unlimited one (bench/README.md); here it is one call.
 *
 * add(words, row, width, own, stamp, n) -> int
 *   words: a writable buffer of native 64-bit words (the mapped counters file)
 *   row, width: the key's words are words[row : row + width]; own: this process's, among them
 *   stamp: the words of the current day and quota reset read stamp .. stamp + COUNT_MASK, the
 *          others count 0
 *   n: what to add to the own word (-1 takes back a +1 of the same stamp)
 * Returns the sum of the row's counts after the addition. The addition is a compare-and-swap:
 * threads need no lock. Other processes write only their own words.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define COUNT_BITS 36 /* a word: stamp << COUNT_BITS | count */
#define COUNT_MASK ((UINT64_C(1) << COUNT_BITS) - 1)

static PyObject *
tally_add(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "add(words, row, width, own, stamp, n) takes 6 arguments");
        return NULL;
    }
    Py_ssize_t row = PyLong_AsSsize_t(args[1]);
    Py_ssize_t width = PyLong_AsSsize_t(args[2]);
    Py_ssize_t own = PyLong_AsSsize_t(args[3]);
    uint64_t stamp = PyLong_AsUnsignedLongLong(args[4]);
    long long n = PyLong_AsLongLong(args[5]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    if (row < 0 || width < 1 || own < row || own >= row + width || row + width > view.len / 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_IndexError, "add(): the row or the own word lies outside the words");
        return NULL;
    }
    uint64_t *words = (uint64_t *)view.buf;
    uint64_t last = stamp + COUNT_MASK;
    uint64_t old = __atomic_load_n(&words[own], __ATOMIC_RELAXED);
    uint64_t new;
    do {
        new = (old >= stamp && old <= last) ? old + (uint64_t)n : stamp + (n > 0 ? (uint64_t)n : 0);
    } while (!__atomic_compare_exchange_n(&words[own], &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    uint64_t total = 0;
    for (Py_ssize_t i = row; i < row + width; i++) {
        uint64_t word = __atomic_load_n(&words[i], __ATOMIC_SEQ_CST);
        if (word >= stamp && word <= last) {
            total += word - stamp;
        }
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(total);
}

static PyMethodDef tally_methods[] = {
    {"add", (PyCFunction)(void (*)(void))tally_add, METH_FASTCALL,
     "add(words, row, width, own, stamp, n) -> the row's count after adding n to the own word"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef tally_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mock_server._tally",
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
