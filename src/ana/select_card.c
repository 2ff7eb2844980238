/*
 * The `selection:` section of a run card (docs/selection.md). The other sections belong to the
 * simulation's reader (na64_sim_config_load), which accepts `selection:` without looking into it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"

#define KEY(name, type, dst, lo, hi) {name, type, dst, 0, lo, hi, 0, NULL, 0, NULL}

int na64_select_config_read(const na64_card *card, na64_select_config *c, na64_err *err)
{
  if (!card || !c) return na64_err_set(err, NA64_EINVAL, "na64_select_config_read: NULL argument");
  const na64_card_node *sec = na64_card_get(card, NULL, "selection");
  if (!sec) return na64_select_config_check(c, err);
  long tracks = c->max_tracks_down;
  int *en = c->enabled;
  const na64_card_key apply[] = {
      KEY("momentum", NA64_CARD_BOOL, &en[NA64_CUT_MOMENTUM], 1, 0),
      KEY("angle", NA64_CARD_BOOL, &en[NA64_CUT_ANGLE], 1, 0),
      KEY("single_track", NA64_CARD_BOOL, &en[NA64_CUT_SINGLE_TRACK], 1, 0),
      KEY("srd", NA64_CARD_BOOL, &en[NA64_CUT_SRD], 1, 0),
      KEY("shower_shape", NA64_CARD_BOOL, &en[NA64_CUT_SHAPE], 1, 0),
      KEY("preshower", NA64_CARD_BOOL, &en[NA64_CUT_PRESHOWER], 1, 0),
      KEY("veto", NA64_CARD_BOOL, &en[NA64_CUT_VETO], 1, 0),
      KEY("signal_box", NA64_CARD_BOOL, &en[NA64_CUT_BOX], 1, 0),
  };
  const na64_card_key keys[] = {
      KEY("momentum_min", NA64_CARD_DOUBLE, &c->p_min, 0, 1000),
      KEY("momentum_max", NA64_CARD_DOUBLE, &c->p_max, 0, 1000),
      KEY("theta_max", NA64_CARD_DOUBLE, &c->theta_max, 1e-7, 1),
      KEY("max_tracks_down", NA64_CARD_INT, &tracks, 1, 100),
      KEY("srd_min", NA64_CARD_DOUBLE, &c->srd_min, 0, 100),
      KEY("srd_max", NA64_CARD_DOUBLE, &c->srd_max, 0, 100),
      KEY("srd_module_min", NA64_CARD_DOUBLE, &c->srd_module_min, 0, 100),
      KEY("srd_time_window", NA64_CARD_DOUBLE, &c->srd_time_window, 1e-3, 1e4),
      KEY("shape_chi2_max", NA64_CARD_DOUBLE, &c->shape_chi2_max, 1e-6, 1e9),
      KEY("preshower_min", NA64_CARD_DOUBLE, &c->preshower_min, 0, 1000),
      KEY("veto_max", NA64_CARD_DOUBLE, &c->veto_max, 1e-9, 1000),
      KEY("ecal_max", NA64_CARD_DOUBLE, &c->ecal_max, 1e-3, 1000),
      KEY("hcal_max", NA64_CARD_DOUBLE, &c->hcal_max, 1e-3, 1000),
      KEY("hcal_sideband_max", NA64_CARD_DOUBLE, &c->hcal_sideband_max, 1e-3, 1000),
      {"apply", NA64_CARD_MAP, NULL, 0, 1, 0, 0, apply, (int)(sizeof apply / sizeof apply[0]), NULL},
  };
  NA64_CALL(na64_card_read(card, sec, keys, (int)(sizeof keys / sizeof keys[0]), err));
  c->max_tracks_down = (int)tracks;
  int st = na64_select_config_check(c, err);
  if (st && err) { /* the card and the position of its selection: section */
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    na64_card_error(card, sec, NULL, err, st, "%s", msg);
  }
  return st;
}

int na64_select_config_parse(const char *text, size_t len, const char *name, na64_select_config *c, na64_err *err)
{
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, len, name, &card, err));
  int st = na64_select_config_read(card, c, err);
  if (st == NA64_EINVAL) na64_err_prefix(err, "%s: ", name ? name : "<card>");
  na64_card_free(card);
  return st;
}

int na64_select_config_load(const char *path, na64_select_config *c, na64_err *err)
{
  if (!path) return na64_err_set(err, NA64_EINVAL, "na64_select_config_load: NULL path");
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  int st = na64_select_config_read(card, c, err);
  if (st == NA64_EINVAL) na64_err_prefix(err, "%s: ", path);
  na64_card_free(card);
  return st;
}
