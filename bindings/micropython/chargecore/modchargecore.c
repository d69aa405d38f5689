/* The C safety core as the MicroPython user C module `_chargecore`: the chargecore API (docs/core-api.md).
 * Objects are allocated once by their constructor; methods return small ints and read sample windows in
 * place (any buffer of typecode 'H'), so the control tick allocates nothing. */
#include <stddef.h>

#include "py/objstr.h"
#include "py/objtuple.h"
#include "py/runtime.h"

#include "chargecore/chargecore.h"

static int32_t get_i32(mp_obj_t o)
{
    return (int32_t)mp_obj_get_int(o);
}

/* Ticks: only the low 30 bits matter (docs/core-api.md), so truncation is exact. */
static uint32_t get_tick(mp_obj_t o)
{
    return (uint32_t)mp_obj_get_int_truncated(o);
}

static mp_obj_t new_i32(int32_t v)
{
    return mp_obj_new_int(v);
}

static const uint16_t *get_samples(mp_obj_t o, size_t *n)
{
    mp_buffer_info_t info;
    mp_get_buffer_raise(o, &info, MP_BUFFER_READ);
    if (info.typecode != 'H') {
        mp_raise_TypeError(MP_ERROR_TEXT("samples: a buffer of uint16 ('H') expected"));
    }
    *n = info.len / sizeof(uint16_t);
    return (const uint16_t *)info.buf;
}

/* Read-only int32 attributes, found by name in a per-type table. */
typedef struct {
    qstr name;
    size_t offset;
} field_t;

static void load_field(mp_obj_t self_in, qstr attr, mp_obj_t *dest, const field_t *fields, size_t n)
{
    size_t i;
    if (dest[0] != MP_OBJ_NULL) {
        return; /* store or delete: not allowed (AttributeError) */
    }
    for (i = 0; i < n; i++) {
        if (fields[i].name == attr) {
            dest[0] = new_i32(*(const int32_t *)((const char *)MP_OBJ_TO_PTR(self_in) + fields[i].offset));
            return;
        }
    }
    dest[1] = MP_OBJ_SENTINEL; /* continue with the methods */
}

#define FIELD(type, name, member) {MP_QSTR_##name, offsetof(type, member)}
#define ATTR_HANDLER(fn, table)                                                         \
    static void fn(mp_obj_t self_in, qstr attr, mp_obj_t *dest)                         \
    {                                                                                   \
        load_field(self_in, attr, dest, table, sizeof(table) / sizeof(table[0]));      \
    }

/* ------------------------------------------------------------------ Cp */
typedef struct {
    mp_obj_base_t base;
    cc_cp s;
} cp_obj_t;

static mp_obj_t cp_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {
        {MP_QSTR_adc_zero, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_mv_num, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_mv_den, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_sample_rate_hz, MP_ARG_INT, {.u_int = CC_CP_DEFAULT_SAMPLE_RATE_HZ}},
        {MP_QSTR_edge_skip, MP_ARG_INT, {.u_int = CC_CP_DEFAULT_EDGE_SKIP}},
        {MP_QSTR_noise_mv, MP_ARG_INT, {.u_int = CC_CP_DEFAULT_NOISE_MV}},
        {MP_QSTR_noisy_limit, MP_ARG_INT, {.u_int = CC_CP_DEFAULT_NOISY_LIMIT}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    cc_cp_config cfg;
    cp_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    cfg.adc_zero = (int32_t)a[0].u_int;
    cfg.mv_num = (int32_t)a[1].u_int;
    cfg.mv_den = (int32_t)a[2].u_int;
    cfg.sample_rate_hz = (int32_t)a[3].u_int;
    cfg.edge_skip = (int32_t)a[4].u_int;
    cfg.noise_mv = (int32_t)a[5].u_int;
    cfg.noisy_limit = (int32_t)a[6].u_int;
    self = mp_obj_malloc(cp_obj_t, type);
    if (cc_cp_init(&self->s, &cfg) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid CP configuration"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t cp_window(mp_obj_t self_in, mp_obj_t samples_in)
{
    cp_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n;
    const uint16_t *s = get_samples(samples_in, &n);
    return new_i32(cc_cp_window(&self->s, s, n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(cp_window_obj, cp_window);

static mp_obj_t cp_classify(mp_obj_t self_in, mp_obj_t pwm_on)
{
    cp_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return new_i32(cc_cp_classify(&self->s, mp_obj_is_true(pwm_on)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(cp_classify_obj, cp_classify);

static mp_obj_t cp_update(mp_obj_t self_in, mp_obj_t samples_in, mp_obj_t pwm_on)
{
    cp_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n;
    const uint16_t *s = get_samples(samples_in, &n);
    return new_i32(cc_cp_update(&self->s, s, n, mp_obj_is_true(pwm_on)));
}
static MP_DEFINE_CONST_FUN_OBJ_3(cp_update_obj, cp_update);

static mp_obj_t cp_reset(mp_obj_t self_in)
{
    cp_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_cp_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(cp_reset_obj, cp_reset);

static const field_t cp_fields[] = {
    FIELD(cp_obj_t, adc_zero, s.cfg.adc_zero), FIELD(cp_obj_t, mv_num, s.cfg.mv_num),
    FIELD(cp_obj_t, mv_den, s.cfg.mv_den), FIELD(cp_obj_t, sample_rate_hz, s.cfg.sample_rate_hz),
    FIELD(cp_obj_t, edge_skip, s.cfg.edge_skip), FIELD(cp_obj_t, noise_mv, s.cfg.noise_mv),
    FIELD(cp_obj_t, noisy_limit, s.cfg.noisy_limit), FIELD(cp_obj_t, status, s.status),
    FIELD(cp_obj_t, high_mv, s.high_mv), FIELD(cp_obj_t, low_mv, s.low_mv), FIELD(cp_obj_t, high_n, s.high_n),
    FIELD(cp_obj_t, low_n, s.low_n), FIELD(cp_obj_t, duty, s.duty), FIELD(cp_obj_t, freq_hz, s.freq_hz),
    FIELD(cp_obj_t, state, s.state), FIELD(cp_obj_t, faults, s.faults), FIELD(cp_obj_t, diode_ok, s.diode_ok),
    FIELD(cp_obj_t, noisy, s.noisy),
};
ATTR_HANDLER(cp_attr, cp_fields)

static const mp_rom_map_elem_t cp_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_window), MP_ROM_PTR(&cp_window_obj)},
    {MP_ROM_QSTR(MP_QSTR_classify), MP_ROM_PTR(&cp_classify_obj)},
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&cp_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&cp_reset_obj)},
};
static MP_DEFINE_CONST_DICT(cp_locals, cp_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Cp, MP_QSTR_Cp, MP_TYPE_FLAG_NONE, make_new, cp_make_new, attr, cp_attr,
                         locals_dict, &cp_locals);

/* ------------------------------------------------------------------ Overcurrent */
typedef struct {
    mp_obj_base_t base;
    cc_oc s;
} oc_obj_t;

static mp_obj_t oc_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {{MP_QSTR_mode, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}}};
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    oc_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(oc_obj_t, type);
    if (cc_oc_init(&self->s, (int32_t)a[0].u_int) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid overcurrent mode"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t oc_update(size_t n_args, const mp_obj_t *args)
{
    oc_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    (void)n_args;
    return new_i32(cc_oc_update(&self->s, get_tick(args[1]), get_i32(args[2]), get_i32(args[3])));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(oc_update_obj, 4, 4, oc_update);

static mp_obj_t oc_reset(mp_obj_t self_in)
{
    oc_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_oc_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(oc_reset_obj, oc_reset);

static const field_t oc_fields[] = {
    FIELD(oc_obj_t, mode, s.mode), FIELD(oc_obj_t, state, s.state), FIELD(oc_obj_t, trips, s.trips),
    FIELD(oc_obj_t, stage, s.stage),
};
ATTR_HANDLER(oc_attr, oc_fields)

static const mp_rom_map_elem_t oc_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&oc_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&oc_reset_obj)},
};
static MP_DEFINE_CONST_DICT(oc_locals, oc_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Overcurrent, MP_QSTR_Overcurrent, MP_TYPE_FLAG_NONE, make_new, oc_make_new,
                         attr, oc_attr, locals_dict, &oc_locals);

/* ------------------------------------------------------------------ Contactor */
typedef struct {
    mp_obj_base_t base;
    cc_ct s;
} ct_obj_t;

static mp_obj_t ct_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {
        {MP_QSTR_aux, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_debounce_ms, MP_ARG_INT, {.u_int = CC_CT_DEFAULT_DEBOUNCE_MS}},
        {MP_QSTR_timeout_ms, MP_ARG_INT, {.u_int = CC_CT_DEFAULT_TIMEOUT_MS}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    ct_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(ct_obj_t, type);
    if (cc_ct_init(&self->s, (int32_t)a[0].u_int, (int32_t)a[1].u_int, (int32_t)a[2].u_int) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid contactor configuration"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t ct_update(size_t n_args, const mp_obj_t *args)
{
    ct_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    (void)n_args;
    return new_i32(cc_ct_update(&self->s, get_tick(args[1]), mp_obj_is_true(args[2]), mp_obj_is_true(args[3])));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ct_update_obj, 4, 4, ct_update);

static mp_obj_t ct_reset(mp_obj_t self_in)
{
    ct_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_ct_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(ct_reset_obj, ct_reset);

static const field_t ct_fields[] = {
    FIELD(ct_obj_t, aux, s.aux), FIELD(ct_obj_t, debounce_ms, s.debounce_ms),
    FIELD(ct_obj_t, timeout_ms, s.timeout_ms), FIELD(ct_obj_t, fault, s.fault), FIELD(ct_obj_t, closed, s.closed),
};
ATTR_HANDLER(ct_attr, ct_fields)

static const mp_rom_map_elem_t ct_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&ct_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&ct_reset_obj)},
};
static MP_DEFINE_CONST_DICT(ct_locals, ct_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Contactor, MP_QSTR_Contactor, MP_TYPE_FLAG_NONE, make_new, ct_make_new, attr,
                         ct_attr, locals_dict, &ct_locals);

/* ------------------------------------------------------------------ Rcm */
typedef struct {
    mp_obj_base_t base;
    cc_rcm s;
} rcm_obj_t;

static mp_obj_t rcm_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {
        {MP_QSTR_trip_ua, MP_ARG_INT, {.u_int = CC_RCM_TRIP_UA}},
        {MP_QSTR_filter_ms, MP_ARG_INT, {.u_int = CC_RCM_DEFAULT_FILTER_MS}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    rcm_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(rcm_obj_t, type);
    if (cc_rcm_init(&self->s, (int32_t)a[0].u_int, (int32_t)a[1].u_int) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid RCM configuration"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t rcm_update(mp_obj_t self_in, mp_obj_t now, mp_obj_t residual_ua)
{
    rcm_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return new_i32(cc_rcm_update(&self->s, get_tick(now), get_i32(residual_ua)));
}
static MP_DEFINE_CONST_FUN_OBJ_3(rcm_update_obj, rcm_update);

static mp_obj_t rcm_start_test(mp_obj_t self_in, mp_obj_t now)
{
    rcm_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return new_i32(cc_rcm_start_test(&self->s, get_tick(now)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(rcm_start_test_obj, rcm_start_test);

static mp_obj_t rcm_reset(mp_obj_t self_in)
{
    rcm_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_rcm_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(rcm_reset_obj, rcm_reset);

static const field_t rcm_fields[] = {
    FIELD(rcm_obj_t, trip_ua, s.trip_ua), FIELD(rcm_obj_t, filter_ms, s.filter_ms),
    FIELD(rcm_obj_t, status, s.status), FIELD(rcm_obj_t, tripped, s.tripped), FIELD(rcm_obj_t, test_ok, s.test_ok),
    FIELD(rcm_obj_t, test_pin, s.test_pin),
};
ATTR_HANDLER(rcm_attr, rcm_fields)

static const mp_rom_map_elem_t rcm_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&rcm_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_start_test), MP_ROM_PTR(&rcm_start_test_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&rcm_reset_obj)},
};
static MP_DEFINE_CONST_DICT(rcm_locals, rcm_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Rcm, MP_QSTR_Rcm, MP_TYPE_FLAG_NONE, make_new, rcm_make_new, attr, rcm_attr,
                         locals_dict, &rcm_locals);

/* ------------------------------------------------------------------ Derating */
typedef struct {
    mp_obj_base_t base;
    cc_derating s;
} derating_obj_t;

static mp_obj_t derating_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {
        {MP_QSTR_mode, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_start_ddegc, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_stop_ddegc, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_start_ma, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_stop_ma, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    derating_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(derating_obj_t, type);
    if (cc_derating_init(&self->s, (int32_t)a[0].u_int, (int32_t)a[1].u_int, (int32_t)a[2].u_int,
                         (int32_t)a[3].u_int, (int32_t)a[4].u_int) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid derating"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t derating_update(mp_obj_t self_in, mp_obj_t ddegc)
{
    derating_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return new_i32(cc_derating_update(&self->s, get_i32(ddegc)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(derating_update_obj, derating_update);

static mp_obj_t derating_reset(mp_obj_t self_in)
{
    derating_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_derating_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(derating_reset_obj, derating_reset);

static const field_t derating_fields[] = {
    FIELD(derating_obj_t, mode, s.mode), FIELD(derating_obj_t, start_ddegc, s.start_ddegc),
    FIELD(derating_obj_t, stop_ddegc, s.stop_ddegc), FIELD(derating_obj_t, start_ma, s.start_ma),
    FIELD(derating_obj_t, stop_ma, s.stop_ma), FIELD(derating_obj_t, active, s.active),
    FIELD(derating_obj_t, fault, s.fault),
};
ATTR_HANDLER(derating_attr, derating_fields)

static const mp_rom_map_elem_t derating_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&derating_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&derating_reset_obj)},
};
static MP_DEFINE_CONST_DICT(derating_locals, derating_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Derating, MP_QSTR_Derating, MP_TYPE_FLAG_NONE, make_new, derating_make_new, attr,
                         derating_attr, locals_dict, &derating_locals);

/* ------------------------------------------------------------------ Fallback */
typedef struct {
    mp_obj_base_t base;
    cc_fallback s;
} fb_obj_t;

static mp_obj_t fb_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args)
{
    static const mp_arg_t allowed[] = {
        {MP_QSTR_time_ms, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_fallback_ma, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    fb_obj_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(fb_obj_t, type);
    if (cc_fallback_init(&self->s, (int32_t)a[0].u_int, (int32_t)a[1].u_int) != CC_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid fallback configuration"));
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t fb_kick(mp_obj_t self_in, mp_obj_t now)
{
    fb_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_fallback_kick(&self->s, get_tick(now));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(fb_kick_obj, fb_kick);

static mp_obj_t fb_update(mp_obj_t self_in, mp_obj_t now, mp_obj_t set_ma)
{
    fb_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return new_i32(cc_fallback_update(&self->s, get_tick(now), get_i32(set_ma)));
}
static MP_DEFINE_CONST_FUN_OBJ_3(fb_update_obj, fb_update);

static mp_obj_t fb_reset(mp_obj_t self_in)
{
    fb_obj_t *self = MP_OBJ_TO_PTR(self_in);
    cc_fallback_reset(&self->s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(fb_reset_obj, fb_reset);

static const field_t fb_fields[] = {
    FIELD(fb_obj_t, time_ms, s.time_ms), FIELD(fb_obj_t, fallback_ma, s.fallback_ma),
    FIELD(fb_obj_t, active, s.active),
};
ATTR_HANDLER(fb_attr, fb_fields)

static const mp_rom_map_elem_t fb_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_kick), MP_ROM_PTR(&fb_kick_obj)},
    {MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&fb_update_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&fb_reset_obj)},
};
static MP_DEFINE_CONST_DICT(fb_locals, fb_locals_table);
MP_DEFINE_CONST_OBJ_TYPE(cc_type_Fallback, MP_QSTR_Fallback, MP_TYPE_FLAG_NONE, make_new, fb_make_new, attr,
                         fb_attr, locals_dict, &fb_locals);

/* ------------------------------------------------------------------ functions */
static mp_obj_t f_cp_state(size_t n_args, const mp_obj_t *args)
{
    (void)n_args;
    return new_i32(cc_cp_state(get_i32(args[0]), get_i32(args[1]), get_i32(args[2]), get_i32(args[3]),
                               get_i32(args[4])));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(f_cp_state_obj, 5, 5, f_cp_state);

static mp_obj_t f_balance_limit(size_t n_args, const mp_obj_t *args)
{
    (void)n_args;
    return new_i32(cc_balance_limit(get_i32(args[0]), get_i32(args[1]), get_i32(args[2]), get_i32(args[3])));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(f_balance_limit_obj, 4, 4, f_balance_limit);

#define FUNCTION_1(name)                                   \
    static mp_obj_t f_##name(mp_obj_t a)                   \
    {                                                      \
        return new_i32(cc_##name(get_i32(a)));             \
    }                                                      \
    static MP_DEFINE_CONST_FUN_OBJ_1(f_##name##_obj, f_##name);
#define FUNCTION_2(name)                                   \
    static mp_obj_t f_##name(mp_obj_t a, mp_obj_t b)       \
    {                                                      \
        return new_i32(cc_##name(get_i32(a), get_i32(b))); \
    }                                                      \
    static MP_DEFINE_CONST_FUN_OBJ_2(f_##name##_obj, f_##name);

FUNCTION_1(duty_from_current)
FUNCTION_1(current_from_duty)
FUNCTION_1(pp_capacity)
FUNCTION_2(pp_accept)
FUNCTION_2(phase_of)
FUNCTION_1(pt1000_mohm)
FUNCTION_1(pt1000_ddegc)
FUNCTION_2(ptc_status)

/* ------------------------------------------------------------------ module */
#define CONST_ENTRY(name, value) {MP_ROM_QSTR(MP_QSTR_##name), MP_ROM_INT(value)},
#define STAGE_ENTRY(pct) MP_ROM_INT(pct),
#define PLUS_ONE(pct) +1

static const mp_rom_obj_tuple_t evze_stages_obj = {
    {&mp_type_tuple}, 0 CC_OC_EVZE_STAGES(PLUS_ONE), {CC_OC_EVZE_STAGES(STAGE_ENTRY)}};
static MP_DEFINE_STR_OBJ(backend_obj, "micropython-c");

static const mp_rom_map_elem_t chargecore_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__chargecore)},
    {MP_ROM_QSTR(MP_QSTR_BACKEND), MP_ROM_PTR(&backend_obj)},
    {MP_ROM_QSTR(MP_QSTR_Cp), MP_ROM_PTR(&cc_type_Cp)},
    {MP_ROM_QSTR(MP_QSTR_Overcurrent), MP_ROM_PTR(&cc_type_Overcurrent)},
    {MP_ROM_QSTR(MP_QSTR_Contactor), MP_ROM_PTR(&cc_type_Contactor)},
    {MP_ROM_QSTR(MP_QSTR_Rcm), MP_ROM_PTR(&cc_type_Rcm)},
    {MP_ROM_QSTR(MP_QSTR_Derating), MP_ROM_PTR(&cc_type_Derating)},
    {MP_ROM_QSTR(MP_QSTR_Fallback), MP_ROM_PTR(&cc_type_Fallback)},
    {MP_ROM_QSTR(MP_QSTR_cp_state), MP_ROM_PTR(&f_cp_state_obj)},
    {MP_ROM_QSTR(MP_QSTR_duty_from_current), MP_ROM_PTR(&f_duty_from_current_obj)},
    {MP_ROM_QSTR(MP_QSTR_current_from_duty), MP_ROM_PTR(&f_current_from_duty_obj)},
    {MP_ROM_QSTR(MP_QSTR_pp_capacity), MP_ROM_PTR(&f_pp_capacity_obj)},
    {MP_ROM_QSTR(MP_QSTR_pp_accept), MP_ROM_PTR(&f_pp_accept_obj)},
    {MP_ROM_QSTR(MP_QSTR_balance_limit), MP_ROM_PTR(&f_balance_limit_obj)},
    {MP_ROM_QSTR(MP_QSTR_phase_of), MP_ROM_PTR(&f_phase_of_obj)},
    {MP_ROM_QSTR(MP_QSTR_pt1000_mohm), MP_ROM_PTR(&f_pt1000_mohm_obj)},
    {MP_ROM_QSTR(MP_QSTR_pt1000_ddegc), MP_ROM_PTR(&f_pt1000_ddegc_obj)},
    {MP_ROM_QSTR(MP_QSTR_ptc_status), MP_ROM_PTR(&f_ptc_status_obj)},
    {MP_ROM_QSTR(MP_QSTR_OC_EVZE_STAGES_PCT), MP_ROM_PTR(&evze_stages_obj)},
    CC_ALL_CONSTANTS(CONST_ENTRY)
};
static MP_DEFINE_CONST_DICT(chargecore_globals, chargecore_globals_table);

const mp_obj_module_t chargecore_user_cmodule = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&chargecore_globals,
};

MP_REGISTER_MODULE(MP_QSTR__chargecore, chargecore_user_cmodule);
