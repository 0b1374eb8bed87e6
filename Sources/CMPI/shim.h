// Open MPI for Swift (the `MPI` package trait). What does not import: the handles below are macros
// over addresses of global structs (`MPI_COMM_WORLD` is `&ompi_mpi_comm_world`), so Swift 6 sees
// either nothing or a non-Sendable global; each is wrapped in a static inline function.
#ifndef NANOSCOPE_CMPI_SHIM_H
#define NANOSCOPE_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm nanoscope_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype nanoscope_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype nanoscope_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype nanoscope_mpi_int(void) { return MPI_INT; }
static inline MPI_Op nanoscope_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op nanoscope_mpi_max(void) { return MPI_MAX; }
static inline void *nanoscope_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Datatype nanoscope_mpi_datatype_null(void) { return MPI_DATATYPE_NULL; }
static inline MPI_Errhandler nanoscope_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int nanoscope_mpi_success(void) { return MPI_SUCCESS; }
static inline int nanoscope_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int nanoscope_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
